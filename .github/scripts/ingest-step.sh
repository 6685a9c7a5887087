#!/usr/bin/env bash
# Run one ingest command and turn its exit code into the workflow's outcome. Called with the
# command itself (`.venv/bin/python -m ingest yfinance`), never through make: make turns every
# failure into its own exit 2, which would hide the codes below (README "Exit codes").
#   0 loaded            -> the step passes
#   3 partial success   -> a warning annotation; the step passes, so build, freshness and the
#                          reports still run on what did load
#   1, 2, 4, other      -> an error annotation naming the code; the step fails with that code
set -uo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

"$@"
code=$?
case "$code" in
  0) ;;
  3) echo "::warning title=partial load::some tickers or files failed (exit 3); see the summary line above and raw_ingest.runs" ;;
  1) echo "::error title=load failed::the load could not start or crashed (exit 1); see the line above" ;;
  2) echo "::error title=bad command line::the ingest command line was refused (exit 2)" ;;
  4) echo "::error title=nothing loaded::every ticker or file failed (exit 4); see raw_ingest.runs" ;;
  *) echo "::error title=ingest ended abnormally::exit $code (killed or interrupted?)" ;;
esac
[ "$code" -eq 3 ] && exit 0
exit "$code"
