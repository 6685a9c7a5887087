"""`python -m ingest session-check`, the daily workflow's "is today a session?" step."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from ingest.cli import main
from ingest.session_check import exchange_today

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("day", "exchange", "expected"),
    [
        ("2026-12-01", "XNYS", "open=true"),  # a Tuesday
        ("2026-11-27", "XNYS", "open=true"),  # the day after Thanksgiving: an early close
        ("2026-11-26", "XNYS", "open=false"),  # Thanksgiving
        ("2026-12-25", "XNYS", "open=false"),  # Christmas, a Friday
        ("2026-11-28", "XNYS", "open=false"),  # a Saturday
        ("2026-11-26", "XLON", "open=true"),  # London trades on Thanksgiving
        ("2026-12-28", "xlon", "open=false"),  # Boxing Day observed; codes in any case
    ],
)
def test_prints_the_line_github_reads(capsys, day, exchange, expected):
    assert main(["session-check", "--date", day, "--exchange", exchange]) == 0
    out, err = capsys.readouterr()
    assert out == expected + "\n"
    assert day in err and err.count("\n") == 1


def test_default_day_is_the_exchange_s_own_date():
    # 03:00 UTC on Tuesday is still Monday evening in New York and already Tuesday in Tokyo.
    instant = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert exchange_today("XNYS", instant) == date(2026, 11, 30)
    assert exchange_today("XTKS", instant) == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "1999-12-31"], "outside the XNYS calendar"),
        (["--date", "2026-13-01"], "not a date"),
        (["--exchange", "NOPE"], "not an exchange_calendars code"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    try:
        code = main(["session-check", *args])
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert message in err and err.count("\n") == 1


def test_the_daily_workflow_step_writes_its_output(tmp_path):
    """Run the workflow's own step script as Actions would and read $GITHUB_OUTPUT back."""
    workflow = yaml.safe_load((REPO / ".github/workflows/daily-load.yml").read_text())
    steps = {step.get("id"): step for step in workflow["jobs"]["load"]["steps"]}
    script = steps["session"]["run"]
    assert "ingest session-check" in script
    output = tmp_path / "github_output"
    output.write_text("earlier=line\n")
    subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=REPO,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        check=True,
        timeout=120,
    )
    lines = output.read_text().splitlines()
    assert lines[0] == "earlier=line"
    assert lines[1:] in (["open=true"], ["open=false"])
    # The steps after it read exactly this output.
    conditions = {step.get("if") for step in workflow["jobs"]["load"]["steps"]}
    assert "steps.session.outputs.open == 'true'" in conditions
