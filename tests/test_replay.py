"""The replay seam: real yfinance code over recorded Yahoo frames, no network.

The folder tests/data/yfinance_replay holds real frames (tests/data/yfinance, renamed to
their Yahoo symbols); the provider runs the project's own yfinance_fetch / yfinance_download
/ yfinance_info with only yfinance's per-ticker network answer replaced.
"""

from __future__ import annotations

import shutil
import socket
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ingest import cli
from ingest.audit import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from ingest.yfinance import normalize
from ingest.yfinance.replay import (
    RecordedFrames,
    ReplayError,
    answering_from,
    emulated_provider,
    read_recording,
)

DATA = Path(__file__).parent / "data"
REPLAY = DATA / "yfinance_replay"
SSNLF_SPLIT = date(2018, 5, 4)  # 50:1, "Stock Splits" 50.0 in SSNLF-1d-bad-div.csv


@pytest.fixture(scope="module")
def recordings() -> RecordedFrames:
    return RecordedFrames(REPLAY)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any socket connection fails the test loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network call during a replay: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_multi_ticker_daily_path_loads_every_exchange_on_its_local_days(
    recordings: RecordedFrames, no_network: None
) -> None:
    """yf.download strips the zone of daily bars; normalize must take its naive dates as the
    exchange-local days (the old normalize refused every ticker of this path)."""
    provider = emulated_provider(recordings, sleep=lambda s: None)
    tickers = ["4063.T", "AET.L", "KMR.L", "CALM", "SAND", "EWG", "IBE.MC", "TEP.PA"]
    frames = provider.history_many(
        tickers, start=date(2022, 1, 1), end=date(2024, 12, 31), interval="1d"
    )
    assert sorted(frames) == sorted(tickers)
    for ticker, frame in frames.items():
        assert frame.index.tz is None  # yf.download's real shape, not a tz-aware fake
        table = normalize.bars_1d(ticker, frame, adjusted_as_of=provider.request_day).table
        recorded = recordings.history(
            ticker, start=date(2022, 1, 1), end=date(2024, 12, 31), interval="1d"
        )
        assert table.num_rows == len(recorded), ticker
        assert table.column("trade_date").to_pylist() == list(recorded.index.date), ticker
    tokyo = normalize.bars_1d("4063.T", frames["4063.T"], adjusted_as_of=date(2026, 6, 26))
    dates = tokyo.table.column("trade_date").to_pylist()
    assert date(2023, 3, 30) in dates  # midnight +09:00, i.e. 15:00 UTC the day before
    assert date(2023, 3, 29) in dates and date(2023, 3, 31) in dates


def test_one_ticker_request_keeps_the_exchange_zone_and_the_range(
    recordings: RecordedFrames, no_network: None
) -> None:
    provider = emulated_provider(recordings, sleep=lambda s: None)
    frame = provider.history(
        "4063.T", start=date(2023, 3, 29), end=date(2023, 3, 31), interval="1d"
    )
    assert str(frame.index.tz) == "Asia/Tokyo" and frame.index.name == "Date"
    assert list(frame.index.date) == [date(2023, 3, 29), date(2023, 3, 30)]  # end exclusive
    assert frame.index.is_monotonic_increasing  # the recording runs newest first
    assert list(frame.columns[:6]) == ["Open", "High", "Low", "Close", "Adj Close", "Volume"]


def test_unknown_symbol_is_no_data_as_yfinance_reports_it(
    recordings: RecordedFrames, no_network: None
) -> None:
    provider = emulated_provider(recordings, sleep=lambda s: None)
    assert provider.history(
        "NOPE", start=date(2023, 1, 1), end=date(2023, 2, 1), interval="1d"
    ).empty
    frames = provider.history_many(
        ["NOPE", "CALM"], start=date(2023, 1, 1), end=date(2023, 2, 1), interval="1d"
    )
    assert frames["NOPE"].empty and len(frames["CALM"]) == 20
    assert provider.info("NOPE") == {}
    assert provider.info("EWG")["quoteType"] == "ETF"


def test_unimplemented_arguments_are_refused(recordings: RecordedFrames) -> None:
    import yfinance as yf

    with answering_from(recordings), pytest.raises(ReplayError, match="auto_adjust=True"):
        yf.Ticker("CALM").history(start="2023-01-01", end="2023-02-01", auto_adjust=True)
    with answering_from(recordings), pytest.raises(ReplayError, match="period"):
        yf.Ticker("CALM").history(period="1mo")


def test_yfinance_is_restored_and_writes_no_cache(
    recordings: RecordedFrames, no_network: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yfinance.cache as yf_cache
    from yfinance.base import TickerBase

    cache_dir = tmp_path / "yf-cache"
    for manager in (yf_cache._TzDBManager, yf_cache._CookieDBManager, yf_cache._ISINDBManager):
        monkeypatch.setattr(manager, "_cache_dir", str(cache_dir))
    for manager, attr in (
        (yf_cache._TzCacheManager, "_tz_cache"),
        (yf_cache._CookieCacheManager, "_Cookie_cache"),
        (yf_cache._ISINCacheManager, "_isin_cache"),
    ):
        monkeypatch.setattr(manager, attr, None, raising=False)
    original = TickerBase.__dict__["history"], TickerBase.__dict__["get_info"]
    provider = emulated_provider(recordings, sleep=lambda s: None)
    provider.history("SSNLF", start=date(2026, 6, 1), end=date(2026, 6, 27), interval="1d")
    provider.history_many(
        ["CALM", "EWG"], start=date(2024, 8, 1), end=date(2024, 9, 1), interval="1d"
    )
    provider.info("CALM")
    assert not cache_dir.exists()
    assert (TickerBase.__dict__["history"], TickerBase.__dict__["get_info"]) == original


def _ssnlf_only(tmp_path: Path) -> Path:
    folder = tmp_path / "replay"
    folder.mkdir()
    shutil.copy(REPLAY / "SSNLF.csv", folder / "SSNLF.csv")
    return folder


def test_request_day_before_a_split_gives_the_prices_yahoo_gave_then(tmp_path: Path) -> None:
    folder = _ssnlf_only(tmp_path)
    recorded = read_recording(folder / "SSNLF.csv", "America/New_York", "1d")
    day = SSNLF_SPLIT - timedelta(days=1)
    then = RecordedFrames(folder, request_day=day).history(
        "SSNLF", start=date(2018, 1, 1), end=None, interval="1d"
    )
    before = recorded[(recorded.index.date >= date(2018, 1, 1)) & (recorded.index.date <= day)]
    assert then.index.equals(before.index) and then.index[-1].date() == day  # nothing after D
    for column in ("Open", "High", "Low", "Close"):
        assert np.allclose(then[column], before[column] * 50)
    assert np.allclose(then["Volume"], (before["Volume"] / 50).round())
    # Adj Close: un-split close x Yahoo's dividend multiplier restricted to dividends <= D
    m_recorded = before["Adj Close"] / before["Close"]
    assert np.allclose(then["Adj Close"] / then["Close"], m_recorded / m_recorded.iloc[-1])
    assert then["Adj Close"].iloc[-1] == pytest.approx(then["Close"].iloc[-1])


def test_request_day_on_the_last_recorded_day_is_the_recording(tmp_path: Path) -> None:
    folder = _ssnlf_only(tmp_path)
    source = RecordedFrames(folder)
    assert source.request_day == date(2026, 6, 26)
    recorded = read_recording(folder / "SSNLF.csv", "America/New_York", "1d")
    now = source.history("SSNLF", start=date(2000, 1, 1), end=None, interval="1d")
    pd.testing.assert_frame_equal(now, recorded)
    assert np.isneginf(now["Adj Close"].iloc[1])  # -inf kept as given for normalize to judge


def test_time_zone_comes_from_info_json_or_the_suffix(tmp_path: Path) -> None:
    shutil.copy(REPLAY / "AET.L.csv", tmp_path / "AET.L.csv")  # no info.json: suffix .L
    source = RecordedFrames(tmp_path)
    frame = source.history("AET.L", start=date(2022, 1, 1), end=None, interval="1d")
    assert str(frame.index.tz) == "Europe/London"
    assert source.info("AET.L") == {"symbol": "AET.L", "exchangeTimezoneName": "Europe/London"}
    shutil.copy(REPLAY / "AET.L.csv", tmp_path / "AET.XX.csv")
    with pytest.raises(ReplayError, match=r"AET\.XX\.csv.*AET\.XX\.info\.json"):
        RecordedFrames(tmp_path)


def run_cli(*args: str) -> int:
    return cli.main(["yfinance", *args])


def test_cli_replays_every_recording_into_the_warehouse(
    tmp_path: Path, no_network: None, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import ingest.yfinance.provider as provider_module

    def never(*args, **kwargs):
        raise AssertionError("the replay must not check Yahoo's reachability")

    monkeypatch.setattr(provider_module.YahooProvider, "check_reachable", never)
    assert run_cli("--replay", str(REPLAY)) == EXIT_OK
    assert "no *.1m.csv" in capsys.readouterr().err
    end = date(2026, 6, 26)  # the last recorded day; a first replay loads every recorded bar
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        loaded = dict(
            con.execute("select ticker, count(*) from raw_yfinance.bars_1d group by 1").fetchall()
        )
        as_of = con.execute("select distinct adjusted_as_of from raw_yfinance.bars_1d").fetchall()
        runs = con.execute("select source, status from raw_ingest.runs").fetchall()
        tickers = con.execute("select count(*) from raw_yfinance.tickers").fetchone()
    expected = {}
    for path in sorted(REPLAY.glob("*.csv")):
        frame = pd.read_csv(path)
        days = pd.to_datetime(frame.iloc[:, 0], utc=True)
        local = days.dt.tz_convert(RecordedFrames(REPLAY)._tz[path.stem]).dt.date
        # A row without any price is no bar (SSNLF has 242, in 2009-2010): the multi-ticker
        # assembly drops it, unless it carries a dividend or split (SSNLF's 2009-12-29 and
        # 2010-06-29 dividends), which raw keeps for dbt to quarantine with its action.
        priced = frame[["Open", "High", "Low", "Close"]].notna().any(axis=1)
        actions = frame[["Dividends", "Stock Splits"]].fillna(0).ne(0).any(axis=1)
        expected[path.stem] = int(((local <= end) & (priced | actions)).sum())
    assert loaded == expected
    assert as_of == [(end,)]
    assert runs == [("replay", "success")]
    assert tickers == (12,)


def test_cli_replay_folder_errors(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as usage:
        run_cli("--replay", str(tmp_path / "missing"))
    assert usage.value.code == EXIT_USAGE
    assert "no such folder" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_cli("--replay", str(empty)) == EXIT_ERROR
    assert "holds no <SYMBOL>.csv" in capsys.readouterr().err
    (empty / "BAD.csv").write_text("this is,not\na yfinance frame,1\n")
    assert run_cli("--replay", str(empty)) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "BAD.csv" in err and len(err.strip().splitlines()) == 1
