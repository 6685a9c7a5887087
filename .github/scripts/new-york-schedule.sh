#!/usr/bin/env bash
# Prints due=true when this run of the daily load is the one to load, else due=false (for
# $GITHUB_OUTPUT). The workflow fires at 21:30 and at 22:30 UTC on weekdays: 17:30 in New
# York under daylight saving (EDT, UTC-4) and in winter (EST, UTC-5) respectively, half an
# hour after the close's bars are final. Only the cron that is 17:30 in New York on the day
# loads, so the load lands before 18:00 New York time all year; a single 22:30 UTC cron was
# 18:30 in summer. A manual run (no SCHEDULE) is always due.
#   SCHEDULE  the cron that fired (github.event.schedule); empty for workflow_dispatch
#   NOW       an instant for `date -d` (tests); default now
set -euo pipefail

if [ -z "${SCHEDULE:-}" ]; then
  echo "due=true"
  exit 0
fi
zone=$(TZ=America/New_York date -d "${NOW:-now}" +%Z)
case "$zone|$SCHEDULE" in
  "EDT|30 21 * * 1-5" | "EST|30 22 * * 1-5") echo "due=true" ;;
  "EDT|30 22 * * 1-5" | "EST|30 21 * * 1-5") echo "due=false" ;;
  *)
    echo "unexpected schedule '$SCHEDULE' in New York zone $zone" >&2
    exit 2
    ;;
esac
