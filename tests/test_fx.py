"""Currency pairs through the Yahoo loader: Yahoo's conventions for `=X` symbols, the sample's
pair, the replay seam and the live command's choice of pairs (ingest/yfinance/fx.py).

The yfinance repository keeps no recorded FX frame (tests/data at 93eb4c2 holds equities and
funds only), so the recording below is written from what yfinance's code and Yahoo's answers
say of a pair: quoteType CURRENCY, currency = the quote currency, exchange CCY, time zone
Europe/London, a daily bar on every weekday (Good Friday and Easter Monday included) stamped
00:00 London (so +01:00 in summer: the UTC instant is the day before), Volume 0 ("FX, volume
always 0", yfinance/scrapers/history.py), Adj Close = Close.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingest import cli
from ingest.audit import EXIT_OK, RunReport
from ingest.config import resolve_warehouse
from ingest.yfinance import fx
from ingest.yfinance.source import FetchPlan, market_data
from sampleworld.market import SampleMarket

REPLAY = Path(__file__).parent / "data" / "yfinance_replay"

# EURUSD=X around Easter 2024 and the switch to summer time (2024-03-31), as
# Ticker.history(auto_adjust=False, actions=True).to_csv() writes it.
EURUSD_RECORDING = """\
Date,Open,High,Low,Close,Adj Close,Volume,Dividends,Stock Splits
2024-03-27 00:00:00+00:00,1.0830,1.0845,1.0807,1.0831,1.0831,0,0.0,0.0
2024-03-28 00:00:00+00:00,1.0826,1.0838,1.0776,1.0827,1.0827,0,0.0,0.0
2024-03-29 00:00:00+00:00,1.0797,1.0803,1.0773,1.0796,1.0796,0,0.0,0.0
2024-04-01 00:00:00+01:00,1.0790,1.0805,1.0726,1.0789,1.0789,0,0.0,0.0
2024-04-02 00:00:00+01:00,1.0742,1.0777,1.0725,1.0743,1.0743,0,0.0,0.0
2024-04-03 00:00:00+01:00,1.0767,1.0838,1.0764,1.0768,1.0768,0,0.0,0.0
"""
EURUSD_INFO = {
    "symbol": "EURUSD=X",
    "shortName": "EUR/USD",
    "quoteType": "CURRENCY",
    "currency": "USD",
    "exchange": "CCY",
    "exchangeTimezoneName": "Europe/London",
}


def test_currency_pairs_are_named_as_yahoo_names_them() -> None:
    assert fx.is_currency_pair("EURUSD=X") and fx.is_currency_pair("jpy=x")
    assert not fx.is_currency_pair("BRK-B") and not fx.is_currency_pair("4063.T")
    assert fx.pair_symbol("eur", "usd") == "EURUSD=X"
    assert fx.pairs_for({"USD", "EUR", "GBP", "eur"}, "USD") == ["EURUSD=X", "GBPUSD=X"]
    assert fx.pairs_for(["USD"], "usd") == []
    with pytest.raises(ValueError, match="not a currency code"):
        fx.currency_code("EURO")


def test_the_sample_pair_answers_as_yahoo_does(market: SampleMarket) -> None:
    frame = market.history("EURUSD=X", start=date(2025, 11, 1), end=None, interval="1d")
    assert str(frame.index.tz) == "Europe/London" and frame.index.name == "Date"
    assert (frame.index == frame.index.normalize()).all()  # 00:00 London
    days = list(frame.index.date)
    weekdays = list(pd.bdate_range("2025-11-03", market.as_of).date)
    assert days == weekdays  # every weekday, none on a weekend
    # the US holidays in the sample's minute window have a rate; no NYSE session has none
    assert {date(2025, 11, 27), date(2025, 12, 25)} <= set(days)
    assert (
        set(market.daily_sessions["session_date"])
        - set(
            market.history(
                "EURUSD=X", start=market.first_daily_session, end=None, interval="1d"
            ).index.date
        )
        == set()
    )
    assert (frame["Volume"] == 0).all() and (frame["Adj Close"] == frame["Close"]).all()
    assert (frame[["Dividends", "Stock Splits"]] == 0).all().all()
    assert ((frame["Low"] <= frame["Close"]) & (frame["Close"] <= frame["High"])).all()
    assert frame["Close"].between(0.9, 1.3).all()
    assert market.info("EURUSD=X") == EURUSD_INFO
    assert market.history("EURUSD=X", start=date(2025, 12, 1), end=None, interval="1m").empty
    earlier = SampleMarket(
        market.as_of, daily_years=2, minute_sessions=25, seed=7, request_day=date(2025, 12, 10)
    )
    answered = earlier.history("EURUSD=X", start=date(2025, 12, 1), end=None, interval="1d")
    assert answered.index.date.max() == date(2025, 12, 10)
    assert answered["Close"].equals(
        frame["Close"][frame.index.date <= date(2025, 12, 10)].loc[answered.index]
    )


class _RecordingProvider:
    """Records which tickers are asked for which interval; answers nothing."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
        self.asked.append((ticker, interval))
        return pd.DataFrame()

    def info(self, ticker: str) -> dict[str, str]:
        return {}


def test_pairs_are_asked_for_daily_bars_only() -> None:
    provider = _RecordingProvider()
    report = RunReport(pipeline="test_fx", source="fake", items_requested=["SPY", "EURUSD=X"])
    plan = FetchPlan(end=date(2025, 12, 3), with_metadata=False)
    source = market_data(provider, ["SPY", "EURUSD=X"], plan, report)
    for resource in source.resources.values():
        list(resource)
    assert ("EURUSD=X", "1d") in provider.asked and ("SPY", "1m") in provider.asked
    assert ("EURUSD=X", "1m") not in provider.asked


def test_a_recorded_pair_replays_into_raw_on_its_london_days(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    (folder / "EURUSD=X.csv").write_text(EURUSD_RECORDING)
    (folder / "EURUSD=X.info.json").write_text(json.dumps(EURUSD_INFO))
    for name in ("CALM.csv", "CALM.info.json"):
        shutil.copy(REPLAY / name, folder / name)
    # daily bars of both through yf.download's multi-ticker assembly (a naive index of local days)
    status = cli.main(
        ["yfinance", "--replay", str(folder), "--start", "2024-03-25", "--end", "2024-04-05"]
    )
    assert status == EXIT_OK, capsys.readouterr().err
    with duckdb.connect(str(resolve_warehouse().path), read_only=True) as con:
        bars = con.execute(
            "select trade_date, close, volume, adj_close from raw_yfinance.bars_1d "
            "where ticker = 'EURUSD=X' order by trade_date"
        ).fetchall()
        calm = {
            d
            for (d,) in con.execute(
                "select trade_date from raw_yfinance.bars_1d where ticker = 'CALM'"
            ).fetchall()
        }
        pair = con.execute(
            "select quote_type, currency, exchange, exchange_timezone, name "
            "from raw_yfinance.tickers where ticker = 'EURUSD=X'"
        ).fetchone()
    # London days, not the UTC date of the instant (2024-04-01 00:00+01:00 is 03-31 23:00 UTC)
    assert [b[0] for b in bars] == [
        date(2024, 3, 27),
        date(2024, 3, 28),
        date(2024, 3, 29),
        date(2024, 4, 1),
        date(2024, 4, 2),
        date(2024, 4, 3),
    ]
    assert date(2024, 3, 29) not in calm  # Good Friday: NYSE closed, FX traded
    assert bars[3][1:] == (1.0789, 0, 1.0789)
    assert pair == ("CURRENCY", "USD", "CCY", "Europe/London", "EUR/USD")


def test_the_live_load_adds_the_accounts_pairs(tmp_path: Path) -> None:
    from ingest.commands.yfinance import account_fx_pairs

    warehouse = resolve_warehouse()
    assert account_fx_pairs(warehouse) == []  # no warehouse yet
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("create schema raw_brokerage")
        con.execute(
            "create table raw_brokerage.accounts (account_id varchar, base_currency varchar)"
        )
        con.execute(
            "insert into raw_brokerage.accounts values ('A', 'USD'), ('B', 'eur'), ('C', 'GBP'), "
            "('D', 'EUR'), ('E', null), ('F', 'euro')"
        )
    assert account_fx_pairs(warehouse) == ["EURUSD=X", "GBPUSD=X"]


def test_the_shipped_universe_lists_pairs_as_fx() -> None:
    rows = pd.read_csv(Path(__file__).parents[1] / "ingest" / "data" / "universe.csv")
    pairs = rows[rows["ticker"].map(fx.is_currency_pair)]
    assert set(pairs["kind"]) == {"fx"} and "EURUSD=X" in set(pairs["ticker"])


def test_the_live_command_asks_for_the_accounts_pairs(monkeypatch, capsys) -> None:
    """`ingest yfinance --tickers SPY` on a warehouse with a EUR account asks for EURUSD=X too
    (offline here: every ticker is recorded as failed, by name)."""
    from ingest.retry import ProviderUnavailable
    from ingest.yfinance.provider import YahooProvider

    def unreachable(self, timeout_s: float = 5.0) -> None:
        raise ProviderUnavailable("cannot reach query2.finance.yahoo.com:443 (no network)")

    monkeypatch.setattr(YahooProvider, "check_reachable", unreachable)
    warehouse = resolve_warehouse()
    with duckdb.connect(str(warehouse.path)) as con:
        con.execute("create schema raw_brokerage")
        con.execute(
            "create table raw_brokerage.accounts as "
            "select 'ACC-2001' as account_id, 'EUR' as base_currency"
        )
    assert cli.main(["yfinance", "--tickers", "SPY"]) == 4
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        ((requested, failed),) = con.execute(
            "select tickers_requested, tickers_failed from raw_ingest.runs"
        ).fetchall()
    assert requested == 2
    assert {f["ticker"] for f in json.loads(failed)} == {"SPY", "EURUSD=X"}
