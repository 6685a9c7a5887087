#!/usr/bin/env bash
# Builds what the Pages site publishes, reports/build (the Evidence reports) and
# dbt_project/target (the dbt docs), from the warehouse the site shows. Run by docs.yml's
# build job, on a push to main and when the daily load calls it after its build;
# tests/test_daily_workflow.py runs it against a fake `make`.
#   MOTHERDUCK_TOKEN set    the daily load's MotherDuck warehouse (MOTHERDUCK_DATABASE, default
#                           market_warehouse), read as it is: no load, only docs and reports
#   MOTHERDUCK_TOKEN unset  the offline sample, built from nothing (make demo), e.g. a fork
# So once the daily load is set up the site shows the real data, on every publication: a push
# never puts the sample back in its place (real and sample never share the site).
set -euo pipefail

if [ "$#" -ne 0 ]; then
  echo "usage: $0 (no arguments; MOTHERDUCK_TOKEN chooses the warehouse)" >&2
  exit 2
fi
if [ -n "${MOTHERDUCK_TOKEN:-}" ]; then
  echo "site-build.sh: the site shows the MotherDuck warehouse ${MOTHERDUCK_DATABASE:-market_warehouse}"
  make docs reports WAREHOUSE_TARGET=motherduck
else
  echo "site-build.sh: no MOTHERDUCK_TOKEN: the site shows the offline sample"
  make demo
  make docs SAMPLE=1
fi
