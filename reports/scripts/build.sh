#!/usr/bin/env bash
# Builds the Evidence site into reports/build/: `npm run sources` (warehouse -> parquet
# cache), then `npm run build`. The output of both goes to reports/build.log too.
#
# Fails when either step fails, and also when the log shows a query error: Evidence
# logs a failed source query ("<name> ✖ Error: ...") or page query ("<name> | Error in
# Query! ...") and still exits 0, even with build:strict.
#
# Environment:
#   EVIDENCE_SOURCE__warehouse__filename  the warehouse file (default: connection.yaml's,
#       ../data/warehouse.duckdb from reports/). Relative to reports/sources/warehouse,
#       or absolute: this script rewrites an absolute path relative to that folder,
#       because @evidence-dev/duckdb 2.0.1 joins the value onto it.
#   EVIDENCE_STEP_TIMEOUT  seconds allowed for each step (default 900), so that a hang
#       (as when DuckDB-Wasm tries to download an extension offline) fails the build.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly log=build.log
readonly step_timeout="${EVIDENCE_STEP_TIMEOUT:-900}"
readonly source_dir=sources/warehouse

if [[ -n "${EVIDENCE_SOURCE__warehouse__filename:-}" ]]; then
	filename="$EVIDENCE_SOURCE__warehouse__filename"
	case "$filename" in
	md:* | :memory:) ;; # MotherDuck or in memory: nothing to check or rewrite
	*)
		if [[ "$filename" == /* ]]; then warehouse="$filename"; else warehouse="$source_dir/$filename"; fi
		if [[ ! -f "$warehouse" ]]; then
			echo "build.sh: warehouse not found: $filename (EVIDENCE_SOURCE__warehouse__filename)" >&2
			exit 1
		fi
		# @evidence-dev/duckdb joins the value onto the source folder, even an absolute one.
		EVIDENCE_SOURCE__warehouse__filename="$(realpath -m --relative-to="$source_dir" "$warehouse")"
		export EVIDENCE_SOURCE__warehouse__filename
		;;
	esac
fi

# 4 GB heap: the SvelteKit build dies below ~2.5 GB.
export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--max-old-space-size=4096"

: >"$log"

run_step() {
	local status=0 started=$SECONDS
	timeout "$step_timeout" "$@" 2>&1 | tee -a "$log" || status=$?
	echo "build.sh: '$*' took $((SECONDS - started))s" | tee -a "$log"
	if ((status == 124)); then
		echo "build.sh: '$*' did not finish within ${step_timeout}s (hung?); see $log" >&2
		exit 1
	elif ((status != 0)); then
		echo "build.sh: '$*' failed (exit $status); see $log" >&2
		exit "$status"
	fi
}

# Errors that Evidence logs without failing (its own wording, @evidence-dev/sdk 40.1.8):
#   sources:   "<query> ✖ Error: ...", "Error connecting to datasource ..."
#   pages:     "<query> | Error in Query! ...", "<query> | Failed to calculate Query score",
#              "Error while attempting to update reactive query: ..."
#   logger:    "[ERROR]: ..." (e.g. a page that fails to render)
readonly query_error_markers='✖ Error|Error connecting to datasource|Error in Query|Failed to calculate Query score|Error while attempting to update reactive query|^\[ERROR\]:'

fail_on_logged_errors() {
	local first_error
	# Strip colours before matching.
	first_error="$(sed -e 's/\x1b\[[0-9;]*m//g' "$log" | grep -m1 -E "$query_error_markers" || true)"
	if [[ -n "$first_error" ]]; then
		echo "build.sh: query error: ${first_error:0:300} (see reports/$log)" >&2
		exit 1
	fi
}

# Cheap and idempotent; catches an install made with --ignore-scripts, which would hang.
run_step node scripts/patch-universal-sql.cjs
run_step npm run sources
fail_on_logged_errors
run_step npm run build
fail_on_logged_errors
echo "build.sh: built $(pwd)/build"
