"""Issue 19: the daily workflow publishes the reports after its build (even when freshness then
fails) and alerts on failure. The step scripts run here against a fake `gh` and a fake `make`
on PATH that record their arguments; the workflow's wiring is read from its YAML."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ALERT = REPO / ".github" / "scripts" / "daily-alert.sh"
SITE = REPO / ".github" / "scripts" / "site-build.sh"
RUN_URL = "https://github.com/o/r/actions/runs/42"

# The run's jobs as GET /repos/{repo}/actions/runs/{id}/jobs answers (the fields read).
JOBS = {
    "jobs": [
        {
            "name": "load",
            "conclusion": "failure",
            "steps": [
                {"name": "Set up the environment", "conclusion": "success"},
                {"name": "dbt build (models and tests)", "conclusion": "success"},
                {"name": "Source freshness", "conclusion": "failure"},
            ],
        },
        {"name": "publish / build", "conclusion": "success", "steps": []},
    ]
}

# A fake gh: logs its arguments (one JSON list a line), answers `issue list` with
# $FAKE_OPEN_ISSUE and `api` by applying the real --jq filter to $FAKE_JOBS with jq, or fails.
FAKE_GH = r"""#!/usr/bin/env bash
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$FAKE_LOG"
case "$1 $2" in
  "issue list") echo "${FAKE_OPEN_ISSUE:-}" ;;
  api*)
    [ -n "${FAKE_API_FAILS:-}" ] && { echo "HTTP 403" >&2; exit 1; }
    jq -r "$4" "$FAKE_JOBS" ;;
esac
"""


Calls = list[list[str]]


def run_alert(
    tmp_path: Path, mode: str, *, open_issue: str = "", api_fails: bool = False,
    env_drop: str | None = None,
) -> tuple[subprocess.CompletedProcess[str], Calls]:  # fmt: skip
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    (tmp_path / "jobs.json").write_text(json.dumps(JOBS))
    log = tmp_path / "gh.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(log),
        "FAKE_JOBS": str(tmp_path / "jobs.json"),
        "FAKE_OPEN_ISSUE": open_issue,
        "GH_REPO": "o/r",
        "RUN_ID": "42",
        "RUN_URL": RUN_URL,
    }
    if api_fails:
        env["FAKE_API_FAILS"] = "1"
    if env_drop:
        del env[env_drop]
    result = subprocess.run(["bash", str(ALERT), mode], env=env, capture_output=True, text=True,
                            timeout=30)  # fmt: skip
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return result, calls


def body_of(call: list[str]) -> str:
    return call[call.index("--body") + 1]


pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "jq"], capture_output=True).returncode != 0,
    reason="the fake gh applies the script's --jq filter with jq",
)


def test_a_failure_opens_an_issue_naming_the_failed_step_and_the_run(tmp_path) -> None:
    result, calls = run_alert(tmp_path, "failed")
    assert result.returncode == 0, result.stderr
    [create] = [c for c in calls if c[:2] == ["issue", "create"]]
    assert create[create.index("--label") + 1] == "daily-load-failure"
    body = body_of(create)
    assert "job `load`, step(s): `Source freshness`" in body
    assert "dbt build" not in body  # only the steps that failed
    assert RUN_URL in body
    label = next(c for c in calls if c[0] == "label")
    assert label[:3] == ["label", "create", "daily-load-failure"]


def test_a_second_failure_comments_on_the_open_issue_instead_of_opening_another(tmp_path) -> None:
    result, calls = run_alert(tmp_path, "failed", open_issue="17")
    assert result.returncode == 0, result.stderr
    assert not [c for c in calls if c[:2] == ["issue", "create"]]
    [comment] = [c for c in calls if c[:2] == ["issue", "comment"]]
    assert comment[2] == "17"
    assert "`Source freshness`" in body_of(comment) and RUN_URL in body_of(comment)


def test_the_alert_goes_out_even_when_the_steps_cannot_be_read(tmp_path) -> None:
    result, calls = run_alert(tmp_path, "failed", api_fails=True)
    assert result.returncode == 0, result.stderr
    [create] = [c for c in calls if c[:2] == ["issue", "create"]]
    assert "could not be read" in body_of(create) and RUN_URL in body_of(create)


def test_a_good_run_closes_the_open_issue_and_is_quiet_without_one(tmp_path) -> None:
    result, calls = run_alert(tmp_path, "recovered", open_issue="17")
    assert result.returncode == 0, result.stderr
    [close] = [c for c in calls if c[:2] == ["issue", "close"]]
    assert close[2] == "17" and RUN_URL in close[close.index("--comment") + 1]
    (tmp_path / "again").mkdir()
    result, calls = run_alert(tmp_path / "again", "recovered")
    assert result.returncode == 0
    assert [c[:2] for c in calls] == [["issue", "list"]]


@pytest.mark.parametrize(("mode", "drop"), [("reopen", None), ("failed", "RUN_URL")])
def test_bad_use_is_one_usage_line_and_exit_2(tmp_path, mode, drop) -> None:
    result, calls = run_alert(tmp_path, mode, env_drop=drop)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert not [c for c in calls if c[0] in ("label", "issue") and c[1] != "list"]


# --- the site's build: MotherDuck's warehouse when the token is there, else the sample ------


def run_site(tmp_path: Path, token: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text('#!/usr/bin/env bash\necho "make $*" >> "$FAKE_LOG"\n')
    (bin_dir / "make").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "log"),
    }
    env.pop("MOTHERDUCK_TOKEN", None)
    if token:
        env["MOTHERDUCK_TOKEN"] = token
    result = subprocess.run(
        ["bash", str(SITE)], env=env, capture_output=True, text=True, timeout=30
    )
    log = tmp_path / "log"
    return result, log.read_text().splitlines() if log.exists() else []


def test_with_a_token_the_site_is_built_from_motherduck_without_loading_anything(tmp_path) -> None:
    result, makes = run_site(tmp_path, "t0ken")
    assert result.returncode == 0
    assert makes == ["make docs reports WAREHOUSE_TARGET=motherduck"]
    assert "t0ken" not in result.stdout + result.stderr


def test_without_a_token_the_site_is_the_sample_docs_included(tmp_path) -> None:
    result, makes = run_site(tmp_path, "")
    assert result.returncode == 0
    # before: `make demo docs`, whose docs read data/warehouse.duckdb, not the sample's file
    assert makes == ["make demo", "make docs SAMPLE=1"]


# --- the workflow's wiring -------------------------------------------------------------------


def workflow(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def test_the_reports_are_published_after_the_build_even_when_freshness_fails() -> None:
    daily = workflow("daily-load.yml")
    load, publish = daily["jobs"]["load"], daily["jobs"]["publish"]
    steps = [s.get("name", "") for s in load["steps"]]
    build = next(s for s in load["steps"] if s.get("id") == "build")
    assert steps.index(build["name"]) < steps.index("Source freshness")
    assert load["outputs"]["built"] == "${{ steps.build.outcome == 'success' }}"
    # the Pages workflow itself, called once the build passed, whatever freshness said
    assert publish["uses"] == "./.github/workflows/docs.yml"
    assert publish["needs"] == "load"
    assert publish["if"] == "${{ !cancelled() && needs.load.outputs.built == 'true' }}"
    assert publish["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert "MOTHERDUCK_TOKEN" in publish["secrets"]
    docs = workflow("docs.yml")
    assert "workflow_call" in docs[True]  # YAML reads `on` as True
    [site_step] = [s for s in docs["jobs"]["build"]["steps"] if "site-build.sh" in s.get("run", "")]
    assert site_step["env"]["MOTHERDUCK_TOKEN"] == "${{ secrets.MOTHERDUCK_TOKEN }}"


def test_a_failed_run_alerts_and_a_good_one_closes_the_alert() -> None:
    jobs = workflow("daily-load.yml")["jobs"]
    alert, recovered = jobs["alert"], jobs["recovered"]
    assert alert["needs"] == ["load", "publish"] and alert["if"] == "${{ failure() }}"
    assert alert["permissions"]["issues"] == "write"
    assert alert["permissions"]["actions"] == "read"  # to name the failed steps
    assert alert["steps"][-1]["run"] == ".github/scripts/daily-alert.sh failed"
    assert alert["steps"][-1]["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert recovered["if"] == "${{ success() && needs.load.outputs.built == 'true' }}"
    assert recovered["steps"][-1]["run"] == ".github/scripts/daily-alert.sh recovered"
    assert ALERT.stat().st_mode & 0o111 and SITE.stat().st_mode & 0o111
