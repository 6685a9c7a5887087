"""The sample generator: deterministic, Yahoo's shapes and conventions (split-adjusted as of
the request day), bars only inside real NYSE sessions."""

from __future__ import annotations

from datetime import date, time, timedelta

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from ingest.yfinance.replay import emulated_provider
from sampleworld import market as sample_market
from sampleworld.market import DEFECTS, YAHOO_COLUMNS, SampleMarket
from tests.conftest import AS_OF, MINUTE_SESSIONS
from tests.pipeline import ingest, query, warehouse_env

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


def test_split_divides_the_traded_price_and_yahoo_adjusts_it_away(market: SampleMarket) -> None:
    traded = market.traded_history("NVDA", interval="1d", **EVERYTHING)
    frame = market.history("NVDA", interval="1d", **EVERYTHING)
    split_day = frame.index[frame["Stock Splits"] > 0]
    assert len(split_day) == 1 and frame.loc[split_day[0], "Stock Splits"] == 10.0
    i = frame.index.get_loc(split_day[0])
    traded_jump = traded["Close"].iloc[i] / traded["Close"].iloc[i - 1]
    yahoo_jump = frame["Close"].iloc[i] / frame["Close"].iloc[i - 1]
    adj_jump = frame["Adj Close"].iloc[i] / frame["Adj Close"].iloc[i - 1]
    assert traded_jump < 0.2  # the traded price falls about tenfold
    assert 0.7 < yahoo_jump < 1.3  # Yahoo's split-adjusted price moves like any other day
    assert 0.7 < adj_jump < 1.3


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


NVDA_SPLIT = date(2024, 6, 26)  # 380 sessions before AS_OF
AAPL_SPLIT = date(2025, 12, 18)  # 8 sessions before AS_OF, inside the minute window


def _as_of_request(day: date) -> SampleMarket:
    return SampleMarket(
        AS_OF, daily_years=2, minute_sessions=MINUTE_SESSIONS, seed=7, request_day=day
    )


def test_the_splits_the_tests_rely_on(market: SampleMarket) -> None:
    assert market.splits("NVDA") == [(NVDA_SPLIT, 10.0)]
    assert market.splits("AAPL") == [(AAPL_SPLIT, 2.0)]
    assert market.request_day == AS_OF


def test_after_a_split_yahoo_divides_every_earlier_bar_by_its_ratio(market: SampleMarket) -> None:
    """Asked after NVDA's 10:1 split, each earlier close is the traded one / 10, its volume
    x 10 and its dividend / 10; the bars from the ex-date on are as traded."""
    for ticker, ex_date, ratio, interval in (
        ("NVDA", NVDA_SPLIT, 10.0, "1d"),
        ("AAPL", AAPL_SPLIT, 2.0, "1d"),
        ("AAPL", AAPL_SPLIT, 2.0, "1m"),
    ):
        traded = market.traded_history(ticker, interval=interval, **EVERYTHING)
        frame = market.history(ticker, interval=interval, **EVERYTHING)
        assert frame.index.equals(traded.index)
        before = frame.index < pd.Timestamp(ex_date).tz_localize("America/New_York")
        assert before.any() and (~before).any()
        for column in ("Open", "High", "Low", "Close"):
            np.testing.assert_allclose(
                frame[column][before], traded[column][before] / ratio, rtol=1e-12
            )
            assert (frame[column][~before] == traded[column][~before]).all(), column
        held_before = frame.index.date <= ex_date  # a dividend is per share held before
        np.testing.assert_allclose(
            frame["Dividends"][held_before], traded["Dividends"][held_before] / ratio
        )
        assert (frame["Dividends"][~held_before] == traded["Dividends"][~held_before]).all()
        assert (frame["Volume"][before] == traded["Volume"][before] * int(ratio)).all()
        assert (frame["Volume"][~before] == traded["Volume"][~before]).all()
        assert frame["Volume"].dtype == "int64"
    nvda = market.history("NVDA", interval="1d", **EVERYTHING)
    assert (nvda["Dividends"][nvda.index.date < NVDA_SPLIT] > 0).any()  # divided too, above


def test_before_a_split_yahoo_neither_shows_nor_applies_it(market: SampleMarket) -> None:
    """Asked the day before the ex-date: no split row, prices as traded, no later bar."""
    for ticker, ex_date in (("NVDA", NVDA_SPLIT), ("AAPL", AAPL_SPLIT)):
        request_day = ex_date - pd.offsets.BDay(1)
        early = _as_of_request(request_day.date())
        for interval in ("1d", "1m"):
            frame = early.history(ticker, interval=interval, **EVERYTHING)
            traded = market.traded_history(ticker, interval=interval, **EVERYTHING)
            traded = traded[traded.index.date <= request_day.date()]
            if interval == "1m" and ticker == "NVDA":
                assert frame.empty  # the minute window lies after that request day
                continue
            assert not frame.empty
            assert frame.index.max().date() == request_day.date()
            assert (frame["Stock Splits"] == 0).all()
            pd.testing.assert_frame_equal(frame.drop(columns="Adj Close"), traded)


def test_an_earlier_and_a_later_request_describe_the_same_world() -> None:
    """Bars fetched before the split, re-based by the split between the two request days,
    are what the later request says: an incremental load across a split stays one world."""
    early, late = _as_of_request(date(2025, 12, 10)), _as_of_request(AS_OF)
    for interval in ("1d", "1m"):
        before = early.history("AAPL", interval=interval, **EVERYTHING)
        after = late.history("AAPL", interval=interval, **EVERYTHING).loc[before.index]
        np.testing.assert_allclose(after["Close"], before["Close"] / 2, rtol=1e-12)
        assert (after["Volume"] == before["Volume"] * 2).all()
    for ticker in ("MSFT", "KO"):  # no split: the same prices whatever the day
        before = early.history(ticker, interval="1d", **EVERYTHING)
        after = late.history(ticker, interval="1d", **EVERYTHING).loc[before.index]
        pd.testing.assert_frame_equal(
            after.drop(columns="Adj Close"), before.drop(columns="Adj Close")
        )


def test_a_dividend_going_ex_with_a_split_is_per_share_held_before_it(monkeypatch) -> None:
    """As Yahoo reports Shin-Etsu's 275 yen as 55 beside its 5:1 split: the split-day
    dividend is divided by that split, its bar's prices are not, and Adj Close stays on one
    basis (the factor's previous close is divided as well)."""
    world = _as_of_request(AS_OF).traded_history("KO", interval="1d", **EVERYTHING)
    ex_dates = list(world.index[world["Dividends"] > 0].date)
    ex_date = ex_dates[-2]
    sessions_back = len(world) - 1 - list(world.index.date).index(ex_date)
    monkeypatch.setitem(sample_market.SPLITS, "KO", (sessions_back, 4.0))
    market = _as_of_request(AS_OF)
    assert market.splits("KO") == [(ex_date, 4.0)]
    traded = market.traded_history("KO", interval="1d", **EVERYTHING)
    frame = market.history("KO", interval="1d", **EVERYTHING)
    day = frame.index[frame.index.date == ex_date][0]
    i = frame.index.get_loc(day)
    assert frame.loc[day, "Stock Splits"] == 4.0
    assert frame.loc[day, "Dividends"] == pytest.approx(traded.loc[day, "Dividends"] / 4)
    assert frame.loc[day, "Close"] == traded.loc[day, "Close"]
    assert frame["Close"].iloc[i - 1] == pytest.approx(traded["Close"].iloc[i - 1] / 4)
    np.testing.assert_allclose(frame["Adj Close"], _adj_close_by_hand(frame), rtol=1e-12)
    factor = frame["Adj Close"].iloc[i - 1] / frame["Close"].iloc[i - 1]
    assert 0.98 < factor < 1  # one quarter's dividend, not four times it


def _adj_close_by_hand(frame: pd.DataFrame) -> list[float]:
    """Yahoo's Adj Close from the frame's own columns, one bar at a time: the close times,
    for every later ex-date in the frame, 1 - dividend / the close of the bar before it."""
    closes, dividends = frame["Close"].tolist(), frame["Dividends"].tolist()
    adjusted = []
    for t, close in enumerate(closes):
        multiplier = 1.0
        for d in range(t + 1, len(closes)):
            if dividends[d] > 0:
                multiplier *= 1 - dividends[d] / closes[d - 1]
        adjusted.append(close * multiplier)
    return adjusted


@pytest.mark.parametrize("request_day", [date(2024, 6, 25), date(2025, 6, 2), AS_OF])
@pytest.mark.parametrize("ticker", ["KO", "NVDA", "AAPL"])
def test_adj_close_adds_the_dividends_up_to_the_request_day(request_day: date, ticker: str) -> None:
    frame = _as_of_request(request_day).history(ticker, interval="1d", **EVERYTHING)
    assert (frame["Dividends"] > 0).sum() >= 2
    np.testing.assert_allclose(frame["Adj Close"], _adj_close_by_hand(frame), rtol=1e-12)
    # A narrower request still counts the dividends after its end, up to the request day.
    part = _as_of_request(request_day).history(
        ticker, interval="1d", start=frame.index[10].date(), end=frame.index[20].date()
    )
    pd.testing.assert_frame_equal(part, frame.iloc[10:20])


def test_minute_adj_close_is_the_close(market: SampleMarket) -> None:
    frame = market.history("AAPL", interval="1m", **EVERYTHING)
    assert (frame["Adj Close"] == frame["Close"]).all()
    assert (frame["Dividends"] == 0).all() and (frame["Stock Splits"] == 0).all()


def test_defects_sit_on_their_sessions_whatever_the_request_day(market: SampleMarket) -> None:
    early = _as_of_request(date(2025, 12, 29))  # 2 sessions before AS_OF
    sessions = market.daily_sessions["session_date"]
    for (ticker, interval, sessions_back), defect in DEFECTS.items():
        day = sessions.iloc[len(sessions) - 1 - sessions_back]
        for m in (market, early):
            f = m.history(ticker, interval=interval, **EVERYTHING)
            f = f[f.index.date == day]
            if day > m.request_day:
                assert f.empty
                continue
            found = {
                "high_below_low": (f["High"] < f["Low"]).any(),
                "non_positive_price": (f["Close"] <= 0).any(),
                "negative_volume": (f["Volume"] < 0).any(),
                "close_above_high": (f["Close"] > f["High"]).any(),
                "duplicate_timestamp": f.index.duplicated().any(),
                "bar_outside_session": f.index.max().time() == time(16, 0),
            }[defect]
            assert found, f"{ticker} {interval} {day}: {defect} missing"


def test_a_request_day_after_the_world_is_refused() -> None:
    with pytest.raises(ValueError, match="after the world"):
        _as_of_request(date(2026, 1, 2))


def test_the_sample_goes_through_yfinances_own_download_and_history(
    market: SampleMarket,
) -> None:
    """What the sample command loads: daily bars of several tickers through the real
    yf.download (its naive daily index, every ticker), minutes through Ticker.history."""
    provider = emulated_provider(market, sleep=lambda s: None)
    assert provider.request_day == market.request_day
    end = AS_OF + timedelta(days=1)
    frames = provider.history_many(
        market.tickers, start=market.first_daily_session, end=end, interval="1d"
    )
    assert sorted(frames) == sorted(market.tickers)
    for ticker, frame in frames.items():
        assert frame.index.tz is None, f"{ticker}: not yf.download's naive daily index"
        ours = market.history(ticker, start=market.first_daily_session, end=end, interval="1d")
        assert list(frame.index.date) == list(ours.index.date), ticker
        pd.testing.assert_frame_equal(
            frame[YAHOO_COLUMNS].set_axis(ours.index),
            ours,
            check_dtype=False,
            check_names=False,
        )
    minutes = provider.history("AAPL", start=market.first_minute_session, end=end, interval="1m")
    assert str(minutes.index.tz) == "America/New_York"  # Ticker.history keeps the zone
    kept = market.history("AAPL", start=AS_OF - timedelta(days=29), end=end, interval="1m")
    pd.testing.assert_frame_equal(minutes[YAHOO_COLUMNS], kept, check_dtype=False)


@pytest.mark.e2e
def test_a_load_before_a_split_and_one_after_it_hold_one_world(tmp_path) -> None:
    """The sample command loaded on a day before AAPL's split, then after it (incremental):
    every raw bar times the splits between its day and its adjusted_as_of is the world as
    traded, daily and minute, whichever load wrote it."""
    env = warehouse_env(tmp_path)
    sample = ["sample", "--as-of", "2025-12-31", "--tickers", "AAPL,KO", "--daily-years", "1"]
    ingest(env, *sample, "--until", "2025-12-16")
    ingest(env, *sample)
    world = SampleMarket(date(2025, 12, 31), daily_years=1)
    ((ex_date, ratio),) = world.splits("AAPL")
    assert date(2025, 12, 16) < ex_date
    for interval, table, key in (("1d", "bars_1d", "trade_date"), ("1m", "bars_1m", "ts")):
        rows = query(
            env,
            f"select {key}, adjusted_as_of, close, volume from raw_yfinance.{table} "
            f"where ticker = 'AAPL' order by {key}",
        )
        bases = {as_of for _, as_of, _, _ in rows}
        assert bases == {date(2025, 12, 16), date(2025, 12, 31)}, "both loads left bars"
        traded = world.traded_history("AAPL", interval=interval, **EVERYTHING)
        traded = traded[~traded.index.duplicated(keep="last")]  # a restated bar: the last
        for at, as_of, close, volume in rows:
            if interval == "1d":
                stamp = pd.Timestamp(at).tz_localize("America/New_York")
            else:
                stamp = pd.Timestamp(at).tz_convert("America/New_York")
            factor = ratio if stamp.date() < ex_date <= as_of else 1.0
            bar = traded.loc[stamp]
            assert close * factor == pytest.approx(bar["Close"], rel=1e-12), (at, as_of)
            assert volume / factor == bar["Volume"], (at, as_of)
