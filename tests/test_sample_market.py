"""The sample generator: deterministic, Yahoo's shapes, bars only inside real NYSE sessions."""

from __future__ import annotations

from datetime import date, time

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from ingest.sample.market import DEFECTS, YAHOO_COLUMNS, SampleMarket
from tests.conftest import AS_OF, MINUTE_SESSIONS

EVERYTHING = {"start": date(2000, 1, 1), "end": date(2100, 1, 1)}


def test_same_seed_same_data_and_other_seed_other_data(market: SampleMarket) -> None:
    twin = SampleMarket(AS_OF, daily_years=2, minute_sessions=MINUTE_SESSIONS, seed=7)
    other = SampleMarket(AS_OF, daily_years=2, minute_sessions=MINUTE_SESSIONS, seed=8)
    for interval in ("1d", "1m"):
        ours = market.history("MSFT", interval=interval, **EVERYTHING)
        pd.testing.assert_frame_equal(ours, twin.history("MSFT", interval=interval, **EVERYTHING))
        theirs = other.history("MSFT", interval=interval, **EVERYTHING)
        assert not np.allclose(ours["Close"].to_numpy()[:100], theirs["Close"].to_numpy()[:100])


@pytest.mark.parametrize("interval,index_name", [("1d", "Date"), ("1m", "Datetime")])
def test_history_has_yahoo_shape(market: SampleMarket, interval: str, index_name: str) -> None:
    frame = market.history("AAPL", interval=interval, **EVERYTHING)
    assert list(frame.columns) == YAHOO_COLUMNS
    assert frame.index.name == index_name
    assert str(frame.index.tz) == "America/New_York"
    assert frame.index.is_monotonic_increasing


def test_unknown_ticker_gives_an_empty_yahoo_frame(market: SampleMarket) -> None:
    frame = market.history("NOPE", interval="1d", **EVERYTHING)
    assert frame.empty
    assert list(frame.columns) == YAHOO_COLUMNS
    assert market.info("NOPE").get("quoteType") is None


def test_daily_bars_are_exactly_the_nyse_sessions(market: SampleMarket) -> None:
    frame = market.history("SPY", interval="1d", **EVERYTHING)
    nyse = xcals.get_calendar("XNYS", start="2023-01-01", end="2026-12-31")
    expected = nyse.sessions_in_range(frame.index[0].date(), AS_OF)
    assert [d.date() for d in expected] == list(frame.index.date)
    assert date(2025, 11, 27) not in set(frame.index.date)  # Thanksgiving


def test_minute_bars_lie_inside_real_sessions_with_early_closes(market: SampleMarket) -> None:
    nyse = xcals.get_calendar("XNYS", start="2025-01-01", end="2026-12-31")
    sessions = nyse.sessions_in_range(date(2025, 11, 25), AS_OF)
    assert len(sessions) == MINUTE_SESSIONS
    for ticker in ("AAPL", "KO", "TSLA"):  # tickers without a minute defect
        frame = market.history(ticker, interval="1m", **EVERYTHING)
        utc = frame.index.tz_convert("UTC")
        opens = nyse.schedule.loc[sessions, "open"]
        closes = nyse.schedule.loc[sessions, "close"]
        session_of_bar = pd.Series(frame.index.date).map(
            {s.date(): (o, c) for s, o, c in zip(sessions, opens, closes, strict=True)}
        )
        assert session_of_bar.notna().all(), "a bar on a day that is not a session"
        inside = [o <= t < c for t, (o, c) in zip(utc, session_of_bar, strict=True)]
        assert all(inside), f"{ticker}: bar outside its session"
        last_bar = frame.groupby(frame.index.date).apply(lambda f: f.index.max().time())
        assert last_bar[date(2025, 11, 28)] <= time(12, 59)  # early close at 13:00 ET
        assert last_bar[date(2025, 12, 24)] <= time(12, 59)
        assert last_bar[date(2025, 12, 23)] >= time(15, 50)
        assert date(2025, 11, 27) not in last_bar.index


def test_daily_bars_of_minute_sessions_are_the_minute_rollup(market: SampleMarket) -> None:
    minutes = market.history("AAPL", interval="1m", **EVERYTHING)
    daily = market.history("AAPL", interval="1d", start=date(2025, 11, 25), end=date(2026, 1, 1))
    rollup = minutes.groupby(minutes.index.date).agg(
        {"Open": "first", "High": "max", "Low": "min", "Close": "last", "Volume": "sum"}
    )
    np.testing.assert_allclose(daily["Close"].to_numpy(), rollup["Close"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(daily["High"].to_numpy(), rollup["High"].to_numpy(), rtol=1e-9)
    assert (daily["Volume"].to_numpy() == rollup["Volume"].to_numpy()).all()


def test_clean_bars_are_internally_consistent(market: SampleMarket) -> None:
    for ticker in ("AAPL", "SPY", "NVDA"):
        for interval in ("1d", "1m"):
            f = market.history(ticker, interval=interval, **EVERYTHING)
            if ticker == "SPY" and interval == "1m":
                f = f.iloc[:-1]  # the injected bar stamped at the close
            assert (f["Low"] <= f[["Open", "Close"]].min(axis=1)).all()
            assert (f["High"] >= f[["Open", "Close"]].max(axis=1)).all()
            assert (f["Low"] > 0).all() and (f["Volume"] >= 0).all()


def test_split_divides_the_traded_price_and_adj_close_stays_smooth(market: SampleMarket) -> None:
    frame = market.history("NVDA", interval="1d", **EVERYTHING)
    split_day = frame.index[frame["Stock Splits"] > 0]
    assert len(split_day) == 1 and frame.loc[split_day[0], "Stock Splits"] == 10.0
    i = frame.index.get_loc(split_day[0])
    raw_jump = frame["Close"].iloc[i] / frame["Close"].iloc[i - 1]
    adj_jump = frame["Adj Close"].iloc[i] / frame["Adj Close"].iloc[i - 1]
    assert raw_jump < 0.2  # the traded price falls about tenfold
    assert 0.7 < adj_jump < 1.3  # the adjusted price moves like any other day


def test_dividends_are_quarterly_and_scale_earlier_adj_closes(market: SampleMarket) -> None:
    frame = market.history("KO", interval="1d", **EVERYTHING)
    ex_dates = frame.index[frame["Dividends"] > 0]
    assert 6 <= len(ex_dates) <= 10  # about four a year over two years
    last = frame.index.get_loc(ex_dates[-1])
    before, after = frame.iloc[last - 1], frame.iloc[last]
    expected_factor = 1 - after["Dividends"] / before["Close"]
    ratio_before = before["Adj Close"] / before["Close"]
    ratio_after = after["Adj Close"] / after["Close"]
    assert ratio_before == pytest.approx(ratio_after * expected_factor, rel=1e-9)


def test_every_defect_is_present(market: SampleMarket) -> None:
    for (ticker, interval, _), defect in DEFECTS.items():
        f = market.history(ticker, interval=interval, **EVERYTHING)
        found = {
            "high_below_low": (f["High"] < f["Low"]).any(),
            "non_positive_price": (f[["Open", "High", "Low", "Close"]] <= 0).any().any(),
            "negative_volume": (f["Volume"] < 0).any(),
            "close_above_high": (f["Close"] > f["High"]).any(),
            "duplicate_timestamp": f.index.duplicated().any(),
            "bar_outside_session": f.index.max().time() == time(16, 0),
        }[defect]
        assert found, f"{ticker} {interval}: {defect} missing"


def test_no_defects_when_asked() -> None:
    clean = SampleMarket(AS_OF, daily_years=2, minute_sessions=5, seed=7, defects=False)
    f = clean.history("KO", interval="1d", **EVERYTHING)
    assert (f["High"] >= f["Low"]).all()


def test_a_short_sample_skips_events_before_its_start() -> None:
    short = SampleMarket(AS_OF, daily_years=1, minute_sessions=5, seed=7)
    nvda = short.history("NVDA", interval="1d", **EVERYTHING)
    assert (nvda["Stock Splits"] == 0).all()  # NVDA's split lies 380 sessions back
