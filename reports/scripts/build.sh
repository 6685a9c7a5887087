#!/usr/bin/env bash
# Builds the Evidence site into reports/build/: `npm run sources` (warehouse -> parquet
# cache), then `npm run build`. The output of both goes to reports/build.log too.
#
# Says what it is doing: each step with its number, the sources and pages it builds, a line
# every 20 s while Evidence works silently, the time of each step and of the whole build, and
# how to view the result with this project's command (make reports-serve; Evidence's own hint,
# `npm run preview`, is dropped from the console: it serves the site differently).
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

readonly heartbeat_seconds="${EVIDENCE_HEARTBEAT_SECONDS:-20}"
readonly build_started=$SECONDS

say() { echo "build.sh: $*" | tee -a "$log"; }

# "2m 05s" / "45s"
duration() {
	local seconds=$1
	if ((seconds >= 60)); then printf '%dm %02ds' $((seconds / 60)) $((seconds % 60)); else printf '%ds' "$seconds"; fi
}

# Evidence's hint to preview the build with npm, and the blank lines around it.
readonly foreign_hints='npm run preview|evidence preview'

# run_step LABEL COMMAND...: runs the command with a timeout, its output on the console (minus
# foreign hints) and in the log, a progress line every $heartbeat_seconds, then its time.
run_step() {
	local label=$1 status=0 started=$SECONDS heartbeat
	shift
	# The heartbeat's sleep is killed with it: an orphaned `sleep` would keep the writer lock
	# this script inherits from `ingest with-lock` for up to $heartbeat_seconds after the
	# build returned, and refuse the next writer (`make demo` then `make replay`).
	(
		trap 'kill "$nap" 2>/dev/null; exit 0' TERM
		while :; do
			sleep "$heartbeat_seconds" &
			nap=$!
			wait "$nap"
			echo "build.sh:   ... $label: $(duration $((SECONDS - started))) so far"
		done
	) &
	heartbeat=$!
	timeout "$step_timeout" "$@" 2>&1 | tee -a "$log" | grep --line-buffered -v -E "$foreign_hints" || status=${PIPESTATUS[0]}
	kill "$heartbeat" 2>/dev/null || true
	wait "$heartbeat" 2>/dev/null || true
	say "$label took $(duration $((SECONDS - started)))"
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

source_names() { find "$source_dir" -name '*.sql' -printf '%f\n' | sed 's/\.sql$//' | sort | paste -sd ' '; }
page_files() { find pages -name '*.md' | sort; }

say "reports build: warehouse ${EVIDENCE_SOURCE__warehouse__filename:-from connection.yaml} (relative to $source_dir)"

# The site is swapped in whole: the previous build waits in build.previous while Evidence
# writes a fresh build/ (no page of an older build survives), and comes back if this build
# fails or is stopped. A complete build is stamped build/.complete; make reports-serve
# refuses a build without it (one killed with SIGKILL, which no trap sees).
if [[ -d build.previous ]]; then # a build killed before it could put the previous one back
	rm -rf build && mv build.previous build
fi
if [[ -d build ]]; then mv build build.previous; fi
keep_previous_site() {
	if [[ -d build.previous ]]; then
		rm -rf build && mv build.previous build
		echo "build.sh: this build did not finish: build/ is still the previous site" >&2
	fi
}
trap keep_previous_site EXIT
trap 'exit 130' INT TERM
# Cheap and idempotent; catches an install made with --ignore-scripts, which would hang.
say "[1/3] checking the universal-sql patch"
run_step "patch check" node scripts/patch-universal-sql.cjs
say "[2/3] sources: $(find "$source_dir" -name '*.sql' | wc -l) queries of the warehouse into the parquet cache ($(source_names))"
run_step "sources" npm run sources
fail_on_logged_errors
say "[3/3] pages: $(page_files | wc -l) page files ($(page_files | sed 's|^pages/||; s|\.md$||' | paste -sd ' ')), each templated page once per linked value; Evidence prints little until it is done (1-3 min)"
run_step "pages" npm run build
fail_on_logged_errors
built_pages=$(find build -name index.html -not -path 'build/_app/*' -not -path 'build/api/*' -not -path 'build/data/*' | wc -l)
date -u +%Y-%m-%dT%H:%M:%SZ >build/.complete
rm -rf build.previous
trap - EXIT
say "built $built_pages pages into $(pwd)/build in $(duration $((SECONDS - build_started)))"
say "view them: make reports-serve (http://127.0.0.1:${REPORTS_PORT:-4173}/)"
