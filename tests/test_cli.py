"""The command line: help everywhere, one-line errors and distinct exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from ingest.cli import main
from ingest.commands.yfinance import read_universe

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["sample"],
        ["yfinance"],
        ["check"],
        ["brokerage-csv"],
        ["brokerage-api"],
        ["export-parquet"],
        ["with-lock"],
        ["brokerage-retire"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "usage:" in result.stdout


def test_unknown_option_is_one_line_and_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", "--bogus"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unrecognized arguments: --bogus" in err


def test_bad_date_is_one_line(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["yfinance", "--start", "yesterday"])
    assert "not a date" in capsys.readouterr().err


def test_motherduck_without_token_is_a_clear_error(capsys) -> None:
    assert main(["check", "--target", "motherduck"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the motherduck target needs a token")
    assert len(err.splitlines()) == 1


def test_check_on_a_missing_warehouse(tmp_path, capsys) -> None:
    assert main(["check", "--warehouse", str(tmp_path / "none.duckdb")]) == 1
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and "make ingest-sample" in err
    assert not (tmp_path / "none.duckdb").exists()


def test_a_locked_warehouse_names_the_holder(tmp_path) -> None:
    path = tmp_path / "locked.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                con = duckdb.connect({str(path)!r})
                print("locked", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = run_cli("sample", "--warehouse", str(path), "--tickers", "SPY")
        assert time.monotonic() - started < 60
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 1
    err = result.stderr.strip()
    assert err == err.splitlines()[0], "expected one line, got a traceback"
    assert f"is locked by process {holder.pid}" in err


def test_unknown_sample_ticker_is_refused(capsys) -> None:
    assert main(["sample", "--tickers", "SPY,NOPE"]) == 1
    assert "not in the sample universe: NOPE" in capsys.readouterr().err


def test_the_sample_without_the_dev_tree_is_one_line(monkeypatch, capsys) -> None:
    """An installed package has no sampleworld (dev/): the sample command says where it is."""
    monkeypatch.setitem(sys.modules, "sampleworld", None)
    monkeypatch.setitem(sys.modules, "sampleworld.market", None)
    assert main(["sample", "--tickers", "SPY"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()], "expected one line"
    assert "needs the development package `sampleworld`" in err and "make setup" in err


def test_the_shipped_package_imports_no_dev_code() -> None:
    """`ingest` ships without dev/: only the sample command may import sampleworld, and only
    inside a function (so every other command, and importing any module, works without it)."""
    import ast

    found = []
    for path in sorted((REPO / "ingest").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(name.split(".")[0] == "sampleworld" for name in names):
                found.append((path.relative_to(REPO).as_posix(), id(node) in top_level))
    assert found, "expected the sample command's lazy imports"
    assert {path for path, _ in found} == {"ingest/commands/sample.py"}
    assert not any(top for _, top in found), "a top-level import of sampleworld in ingest/"


def test_read_universe_accepts_csv_or_plain_lines(tmp_path) -> None:
    csv_file = tmp_path / "u.csv"
    csv_file.write_text("ticker,kind\nspy,etf\nAAPL,stock\nSPY,etf\n")
    plain = tmp_path / "u.txt"
    plain.write_text("# my list\nMSFT\n\nko\n")
    assert read_universe(csv_file) == ["SPY", "AAPL"]
    assert read_universe(plain) == ["MSFT", "KO"]


def test_shipped_universe_has_100_to_200_tickers_with_spy() -> None:
    tickers = read_universe(REPO / "ingest" / "data" / "universe.csv")
    assert 100 <= len(tickers) <= 200
    assert {"SPY", "QQQ", "IWM", "XLK"} <= set(tickers)


def test_yfinance_without_network_ends_fast_with_nothing_loaded(monkeypatch, capsys) -> None:
    from ingest.retry import ProviderUnavailable
    from ingest.yfinance.provider import YahooProvider

    def unreachable(self, timeout_s: float = 5.0) -> None:
        raise ProviderUnavailable("cannot reach query2.finance.yahoo.com:443 (no network)")

    def must_not_fetch(*args, **kwargs):
        raise AssertionError("no request may be made once the provider is known unreachable")

    monkeypatch.setattr(YahooProvider, "check_reachable", unreachable)
    monkeypatch.setattr(YahooProvider, "history", must_not_fetch)
    monkeypatch.setattr(YahooProvider, "info", must_not_fetch)
    started = time.monotonic()
    assert main(["yfinance", "--tickers", "SPY,AAPL"]) == 4
    assert time.monotonic() - started < 60
    err = capsys.readouterr().err
    assert "provider unreachable: cannot reach query2.finance.yahoo.com" in err
    with duckdb.connect(os.environ["WAREHOUSE_PATH"], read_only=True) as con:
        rows = con.execute(
            "select status, tickers_requested, error from raw_ingest.runs"
        ).fetchall()
    assert rows == [
        (
            "failed",
            2,
            "provider unreachable: cannot reach query2.finance.yahoo.com:443 (no network)",
        )
    ]


def test_the_universe_comes_from_options_then_config_then_the_default(
    tmp_path, monkeypatch
) -> None:
    from ingest.commands.yfinance import configured_universe

    listed = tmp_path / "mine.txt"
    listed.write_text("IBM\nT\n")
    assert configured_universe(listed) == ["IBM", "T"]
    monkeypatch.setenv("INGEST_TICKERS_FILE", str(listed))
    assert configured_universe(None) == ["IBM", "T"]
    monkeypatch.setenv("INGEST_TICKERS", "spy, qqq")
    assert configured_universe(None) == ["SPY", "QQQ"]
    monkeypatch.delenv("INGEST_TICKERS")
    monkeypatch.delenv("INGEST_TICKERS_FILE")
    assert len(configured_universe(None)) >= 100
