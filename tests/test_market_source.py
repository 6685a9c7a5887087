"""The market source with a fake provider: failures isolated, restatements merged, audited."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd

from ingest.audit import EXIT_NOTHING_LOADED, EXIT_OK, EXIT_PARTIAL, RunReport
from ingest.config import RAW_YFINANCE, resolve_warehouse
from ingest.runner import run_source
from ingest.yfinance.source import FetchPlan, market_data

DAYS = ["2025-12-01", "2025-12-02", "2025-12-03"]


class FakeProvider:
    """Daily bars for GOOD; BROKEN raises; EMPTY has no data; closes can be restated."""

    def __init__(self, close: float = 10.0) -> None:
        self.close = close
        self.requests: list[tuple[str, date, date]] = []

    def history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
        self.requests.append((ticker, start, end))
        if ticker == "BROKEN":
            raise RuntimeError("HTTP 500 from the provider, three times")
        if ticker == "EMPTY":
            return pd.DataFrame()
        index = pd.DatetimeIndex(DAYS, name="Date").tz_localize("America/New_York")
        local = index.date
        keep = (local >= start) & (local < end)
        n = len(DAYS)
        frame = pd.DataFrame(
            {
                "Open": [10.0] * n,
                "High": [12.0] * n,
                "Low": [9.0] * n,
                "Close": [10.0, 11.0, self.close],
                "Adj Close": [10.0, 11.0, self.close],
                "Volume": [100] * n,
                "Dividends": [0.0] * n,
                "Stock Splits": [0.0] * n,
            },
            index=index,
        )
        return frame[keep]

    def info(self, ticker: str) -> dict[str, str]:
        return {"quoteType": "EQUITY", "longName": ticker, "currency": "USD"}


def load(provider: FakeProvider, tickers: list[str]) -> RunReport:
    warehouse = resolve_warehouse()
    report = RunReport(pipeline="test_market", source="fake", items_requested=tickers)
    plan = FetchPlan(end=date(2025, 12, 3), intervals=("1d",), daily_backfill_days=10)
    source = market_data(provider, tickers, plan, report)
    return run_source(warehouse, report, source, pipeline_name="test_market", dataset=RAW_YFINANCE)


def query(sql: str) -> list[tuple]:
    with duckdb.connect(str(resolve_warehouse().path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_failed_ticker_never_sinks_the_others() -> None:
    report = load(FakeProvider(), ["GOOD", "BROKEN", "EMPTY"])
    assert report.status == "partial"
    assert report.exit_code == EXIT_PARTIAL
    assert query("select ticker, count(*) from raw_yfinance.bars_1d group by 1") == [("GOOD", 3)]
    ((status, failed, loaded),) = query(
        "select status, tickers_failed, tickers_loaded from raw_ingest.runs"
    )
    assert status == "partial" and loaded == 1
    reasons = {f["ticker"]: f["reason"] for f in json.loads(failed)}
    assert set(reasons) == {"BROKEN", "EMPTY"}
    assert "HTTP 500" in reasons["BROKEN"]
    assert "no data returned" in reasons["EMPTY"]


def test_nothing_loaded_has_its_own_exit_code() -> None:
    report = load(FakeProvider(), ["BROKEN"])
    assert report.exit_code == EXIT_NOTHING_LOADED
    assert query("select status from raw_ingest.runs") == [("failed",)]


def test_a_restated_bar_replaces_the_old_one_and_runs_are_audited() -> None:
    assert load(FakeProvider(close=10.5), ["GOOD"]).exit_code == EXIT_OK
    assert load(FakeProvider(close=10.75), ["GOOD"]).exit_code == EXIT_OK
    rows = query("select trade_date, close from raw_yfinance.bars_1d order by 1")
    assert [r[1] for r in rows] == [10.0, 11.0, 10.75]
    assert query("select count(*) from raw_ingest.runs") == [(2,)]


def test_each_key_lands_once_without_the_merge_de_duplication() -> None:
    """The merge skips dlt's de-duplication of staged rows, so a load must hold each key
    once: a ticker named twice is fetched once, and a bar Yahoo repeats is kept once."""

    class Repeating(FakeProvider):
        def history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
            frame = super().history(ticker, start=start, end=end, interval=interval)
            return pd.concat([frame, frame.tail(1)])

    provider = Repeating()
    assert load(provider, ["GOOD", "GOOD"]).exit_code == EXIT_OK
    assert [r[0] for r in provider.requests] == ["GOOD"]
    assert load(provider, ["GOOD"]).exit_code == EXIT_OK  # and a reload replaces, not adds
    assert query("select count(*), count(distinct trade_date) from raw_yfinance.bars_1d") == [
        (3, 3)
    ]


def test_the_second_run_starts_from_the_watermark_minus_the_overlap() -> None:
    first, second = FakeProvider(), FakeProvider()
    load(first, ["GOOD"])
    load(second, ["GOOD"])
    # First run: the backfill depth (10 days before the end). Second run: the watermark
    # (2025-12-03, the last bar loaded) minus the 5-day overlap. End is exclusive.
    assert first.requests == [("GOOD", date(2025, 11, 23), date(2025, 12, 4))]
    assert second.requests == [("GOOD", date(2025, 11, 28), date(2025, 12, 4))]
    assert query("select count(*) from raw_yfinance.bars_1d") == [(3,)]


class UnreachableProvider(FakeProvider):
    """Every request fails before reaching the provider, as with DNS down."""

    def history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
        self.requests.append((ticker, start, end))
        raise ConnectionError("curl: (6) Could not resolve host: query2.finance.yahoo.com")


def test_an_unreachable_provider_stops_the_run_after_three_tickers() -> None:
    provider = UnreachableProvider()
    tickers = [f"T{i}" for i in range(50)]
    report = load(provider, tickers)
    assert len(provider.requests) == 3  # the breaker opened; 47 tickers never waited
    assert report.exit_code == EXIT_NOTHING_LOADED
    assert report.error.startswith("provider unreachable")
    assert len(report.items_failed) == 50
    ((status, error),) = query("select status, error from raw_ingest.runs")
    assert status == "failed" and "Could not resolve host" in error


def test_thirty_percent_rate_limited_calls_still_load_every_ticker() -> None:
    import random

    from ingest.yfinance.provider import YahooProvider

    rng = random.Random(30)
    calls = {"n": 0, "limited": 0}

    class YFRateLimitError(Exception):
        pass

    def fetch(ticker: str, start: date, end: date, interval: str) -> pd.DataFrame:
        calls["n"] += 1
        if rng.random() < 0.3:
            calls["limited"] += 1
            raise YFRateLimitError("Too Many Requests. Rate limited. Try after a while.")
        return FakeProvider().history(ticker, start=start, end=end, interval=interval)

    provider = YahooProvider(
        fetch=fetch, fetch_many=None, fetch_info=FakeProvider().info, sleep=lambda s: None
    )
    tickers = [f"T{i}" for i in range(20)]
    report = load(provider, tickers)
    assert calls["limited"] >= 3  # the test really exercised rate limits
    assert report.exit_code == EXIT_OK, report.summary()
    assert query("select count(distinct ticker), count(*) from raw_yfinance.bars_1d") == [(20, 60)]


def yahoo_download_frame(tickers: list[str], start: date, end: date) -> pd.DataFrame:
    """yf.download(group_by="ticker") shape: (Ticker, Price) columns on a shared index, which
    is tz-naive for daily bars (yf.download's ignore_tz)."""
    frames = {t: FakeProvider().history(t, start=start, end=end, interval="1d") for t in tickers}
    frames["LATE"] = frames[tickers[0]].iloc[1:]  # a ticker listed later: NaN on day one
    frame = pd.concat(frames, axis=1, names=["Ticker", "Price"])
    frame.index = frame.index.tz_localize(None)
    return frame[[t for t in tickers if t != "GONE"]]  # a symbol Yahoo does not know is absent


def test_daily_bars_come_from_one_request_per_group_of_tickers() -> None:
    from ingest.yfinance.provider import YahooProvider

    group_calls: list[list[str]] = []

    def fetch_many(tickers: list[str], start: date, end: date, interval: str) -> pd.DataFrame:
        group_calls.append(list(tickers))
        if len(group_calls) == 1:
            raise RuntimeError("HTTP 429 Too Many Requests")  # retried, not fatal
        return yahoo_download_frame(tickers, start, end)

    def fetch_one(*args, **kwargs) -> pd.DataFrame:
        raise AssertionError("daily bars must come from the group request")

    provider = YahooProvider(
        fetch=fetch_one, fetch_many=fetch_many, fetch_info=FakeProvider().info, sleep=lambda s: None
    )
    report = load(provider, ["AAA", "BBB", "LATE", "GONE"])
    assert [sorted(c) for c in group_calls] == [["AAA", "BBB", "GONE", "LATE"]] * 2
    assert report.items_failed.keys() == {"GONE"}
    rows = query("select ticker, count(*) from raw_yfinance.bars_1d group by 1 order by 1")
    assert rows == [("AAA", 3), ("BBB", 3), ("LATE", 2)]


def test_the_metadata_requests_show_progress_each_ticker_once(monkeypatch, capsys) -> None:
    class NoInfoForBroken(FakeProvider):
        def info(self, ticker: str) -> dict[str, str]:
            if ticker == "BROKEN":
                raise RuntimeError("HTTP 404")
            return {} if ticker == "EMPTY" else super().info(ticker)  # no quote type

    monkeypatch.setenv("INGEST_PROGRESS", "plain")
    load(NoInfoForBroken(), ["GOOD", "BROKEN", "EMPTY"])
    [line] = [x for x in capsys.readouterr().err.splitlines() if x.startswith("metadata:")]
    assert line.startswith("metadata: 3/3 tickers, 2 failed, 1 rows, ")  # plain: the last only
