#!/usr/bin/env bash
# Keeps one open GitHub issue for a failing daily load, so a failure is never only a red run
# nobody looks at. Run by daily-load.yml's `alert` job (`if: failure()`) and, after a run that
# built, its `recovered` job; tests/test_daily_workflow.py runs it against a fake `gh`.
#   failed     opens the issue (label daily-load-failure) or, when one is open, comments on
#              it: the run's failed jobs and steps, and the run's URL
#   recovered  closes the open issue, if any, with a comment naming the run that succeeded
# Environment: GH_TOKEN (GITHUB_TOKEN: issues write, actions read), GH_REPO (owner/name),
# RUN_ID and RUN_URL (the run). Exit 0 once the issue says so; gh's code if it could not.
set -euo pipefail

readonly label=daily-load-failure
usage() { echo "usage: $0 failed|recovered (with GH_REPO, RUN_ID, RUN_URL set)" >&2; exit 2; }
[ "$#" -eq 1 ] || usage
for name in GH_REPO RUN_ID RUN_URL; do
  [ -n "${!name:-}" ] || { echo "daily-alert.sh: $name is not set" >&2; usage; }
done

open_issue=$(gh issue list --label "$label" --state open --limit 1 --json number --jq '.[0].number // empty')

case "$1" in
  failed)
    # The failed steps, "job: step, step" a line; the API is not the alert: without it the
    # issue still goes out, saying where to look.
    if ! failed=$(gh api "repos/$GH_REPO/actions/runs/$RUN_ID/jobs" --jq \
      '.jobs[] | select(.conclusion == "failure")
       | "- job `\(.name)`, step(s): \([.steps[] | select(.conclusion == "failure") | "`\(.name)`"] | join(", "))"') \
      || [ -z "$failed" ]; then
      failed="- (the failed steps could not be read from the API: open the run)"
    fi
    body=$(printf 'The daily load failed on %s (UTC).\n\n%s\n\nRun: %s\n\nSee docs/operations.md, "When something fails".\n' \
      "$(date -u '+%Y-%m-%d %H:%M')" "$failed" "$RUN_URL")
    if [ -n "$open_issue" ]; then
      gh issue comment "$open_issue" --body "$body"
      echo "daily-alert.sh: commented on the open issue #$open_issue"
    else
      gh label create "$label" --color d73a4a --description "the scheduled daily load failed" --force
      gh issue create --title "Daily load failed" --label "$label" --body "$body"
      echo "daily-alert.sh: opened an issue"
    fi
    ;;
  recovered)
    if [ -n "$open_issue" ]; then
      gh issue close "$open_issue" --comment "The daily load succeeded again: $RUN_URL"
      echo "daily-alert.sh: closed issue #$open_issue"
    else
      echo "daily-alert.sh: no open failure issue"
    fi
    ;;
  *) usage ;;
esac
