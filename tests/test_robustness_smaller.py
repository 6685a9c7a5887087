"""Issue 19, item 10 (the smaller cases): the mock broker checks the token before anything
else, a password in the API URL never reaches dlt's files, and the audit counts add up when
a run finishes an interrupted one. Each failed on the code before its fix."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from http import HTTPStatus
from pathlib import Path

import pytest

from ingest.cli import main
from sampleworld.mock_broker import MockBroker, serve
from tests.pipeline import REPO, ingest, query, warehouse_env


@pytest.fixture(scope="module")
def books():
    from sampleworld.brokerage import generate_brokerage
    from sampleworld.market import SampleMarket

    accounts, transactions = generate_brokerage(
        SampleMarket(date(2025, 12, 31), daily_years=1, minute_sessions=1, seed=7)
    )
    return accounts, transactions.slice(0, 3)


def test_the_mock_broker_checks_the_token_before_failing_on_purpose(books) -> None:
    broker = MockBroker(*books, token="right", failure_rate=1.0)  # every request 429 or 500
    for authorization in (None, "Bearer wrong"):
        status, _ = broker.answer("/v1/accounts", {}, authorization)
        assert status == HTTPStatus.UNAUTHORIZED  # before: 429 or 500, as if worth a retry
    status, _ = broker.answer("/v1/nowhere", {}, None)
    assert status == HTTPStatus.UNAUTHORIZED  # no endpoint is revealed without the token
    assert broker.answer("/v1/accounts", {}, "Bearer right")[0] in (429, 500)


def test_a_password_in_the_api_url_is_refused_and_written_nowhere(
    books, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("SOURCES__BROKERAGE_API__TOKEN", "right")
    secret = "hunter2-in-the-url"
    with serve(MockBroker(*books, token="right")) as url:
        code = main(["brokerage-api", "--base-url", url.replace("//", f"//alice:{secret}@")])
    assert code == 1  # before: 0, and dlt's trace.pickle held the password
    [line] = capsys.readouterr().err.splitlines()
    assert "base_url holds a user name or password" in line and secret not in line
    holding = [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert holding == []


SAMPLE = ["sample", "--as-of", "2025-12-31", "--tickers", "SPY,KO", "--daily-years", "1",
          "--minute-sessions", "2"]  # fmt: skip


@pytest.fixture(scope="module")
def clean_load_counts(tmp_path_factory) -> tuple[int, int]:
    """rows_written of a clean load, then of the same command again (incremental from its
    watermarks)."""
    reference = warehouse_env(tmp_path_factory.mktemp("reference"))
    ingest(reference, *SAMPLE)
    ingest(reference, *SAMPLE)
    written = "select rows_written from raw_ingest.runs where pipeline = 'sample_market'"
    [(first,), (second,)] = query(reference, f"{written} order by started_at")
    return first, second


# "kill": dies as the second bars job starts (whether the first job's copy had committed is
# up to dlt's worker threads); "kill-after-copy": dies right after a copy committed, so the
# resume copies it again and the extra copies are deleted: they are not rows the audit counts
@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["kill", "kill-after-copy"])
def test_the_audit_counts_add_up_when_a_run_finishes_an_interrupted_one(
    tmp_path, clean_load_counts, mode
) -> None:
    from tests.test_reliability import WRAPPER

    first, second = clean_load_counts
    env = warehouse_env(tmp_path / "killed")
    killed = subprocess.run(
        [sys.executable, "-c", WRAPPER, mode, str(tmp_path / "marker"), *SAMPLE],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    audited = "select count(*) from duckdb_tables() where table_name = 'runs'"
    assert query(env, audited) == [(0,)]  # it wrote no audit row
    assert "finishing the load packages" in ingest(env, *SAMPLE)

    written = "select rows_written from raw_ingest.runs where pipeline = 'sample_market'"
    [(rerun,)] = query(env, written)
    # the interrupted run's package (a whole first load) and the rerun's own incremental
    # extract; before: only the latter, so the rows the dead run's package brought were in
    # no audit row. A second copy the resume deleted is not subtracted: the package's rows
    # were counted once, from its files (CI saw 3,624 for 3,626 when they were). The sample's
    # currency pair (EURUSD=X: 262 daily bars and its metadata, then 5 bars) is in both.
    assert (rerun, first, second) == (first + second, 2323, 1571)
    assert Path(env["WAREHOUSE_PATH"]).exists()


# --- the reports build swaps a complete site in ------------------------------------------

FAKE_NPM = """#!/usr/bin/env bash
# `npm run sources` succeeds; `npm run build` writes a page, then fails if FAKE_FAIL=1
if [[ "$2" == build ]]; then
    mkdir -p build && echo "$FAKE_PAGE" > build/index.html
    [[ "${FAKE_FAIL:-0}" == 1 ]] && { echo "out of memory"; exit 1; }
fi
exit 0
"""


def test_the_reports_build_keeps_the_previous_site_until_the_new_one_is_complete(
    tmp_path,
) -> None:
    import os

    reports = tmp_path / "reports"
    (reports / "scripts").mkdir(parents=True)
    (reports / "scripts" / "build.sh").write_bytes((REPO / "reports/scripts/build.sh").read_bytes())
    (reports / "sources" / "warehouse").mkdir(parents=True)
    (reports / "sources" / "warehouse" / "prices.sql").write_text("select 1\n")
    (reports / "pages").mkdir()
    (reports / "pages" / "index.md").write_text("# hi\n")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "npm").write_text(FAKE_NPM)
    (fake_bin / "node").write_text("#!/usr/bin/env bash\nexit 0\n")
    for tool in fake_bin.iterdir():
        tool.chmod(0o755)
    site = reports / "build"
    site.mkdir()
    (site / "index.html").write_text("old\n")
    (site / "removed-page.html").write_text("a page the new build no longer has\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCE_")}
    env["PATH"] = f"{fake_bin}:{env['PATH']}"

    def build(page: str, fail: bool) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(reports / "scripts/build.sh")], capture_output=True, text=True,
            env=env | {"FAKE_PAGE": page, "FAKE_FAIL": "1" if fail else "0"}, timeout=60,
        )  # fmt: skip

    failed = build("half-built", fail=True)
    assert failed.returncode == 1
    # before: build/ held the failed build's pages next to the old ones, and no sign of it
    assert (site / "index.html").read_text() == "old\n"
    assert "build/ is still the previous site" in failed.stderr
    assert not (reports / "build.previous").exists()

    done = build("new", fail=False)
    assert done.returncode == 0, done.stderr
    assert (site / "index.html").read_text() == "new\n"
    assert (site / ".complete").exists()
    assert not (site / "removed-page.html").exists()  # before: an old page stayed deployed
    assert not (reports / "build.previous").exists()


# --- the daily schedule follows the New York close across daylight saving ------------------


@pytest.mark.parametrize("day", ["2026-07-15", "2026-01-14", "2026-03-09", "2026-11-02"])
def test_the_daily_load_runs_at_1730_new_york_time_all_year(day) -> None:
    """Before: one cron at 22:30 UTC, which is 18:30 in New York under daylight saving, after
    the 18:00 deadline. Now the workflow fires at both UTC hours and the clock step lets only
    the one that is 17:30 in New York go on (the days after both of 2026's switches too)."""
    import os
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import yaml

    workflow = yaml.safe_load((REPO / ".github/workflows/daily-load.yml").read_text())
    crons = [entry["cron"] for entry in workflow[True]["schedule"]]  # YAML reads `on` as True
    steps = {step.get("id"): step for step in workflow["jobs"]["load"]["steps"]}
    assert steps["session"]["if"] == "steps.clock.outputs.due == 'true'"

    def due(cron: str | None) -> bool:
        minute, hour = cron.split()[:2] if cron else ("0", "0")
        result = subprocess.run(
            ["bash", "-e", "-c", steps["clock"]["run"].replace(' >> "$GITHUB_OUTPUT"', "")],
            cwd=REPO, capture_output=True, text=True, timeout=30, check=True,
            env=os.environ | {"SCHEDULE": cron or "", "NOW": f"{day} {hour}:{minute} UTC"},
        )  # fmt: skip
        return {"due=true": True, "due=false": False}[result.stdout.strip()]

    loading = [cron for cron in crons if due(cron)]
    assert len(loading) == 1, (day, crons)
    minute, hour = loading[0].split()[:2]
    fired = datetime.fromisoformat(f"{day}T{int(hour):02d}:{int(minute):02d}:00+00:00")
    assert fired.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == "17:30"
    assert due(None)  # a manual run always loads
