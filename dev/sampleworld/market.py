"""A seeded, offline stand-in for Yahoo Finance with Yahoo's real response conventions.

`SampleMarket` answers the same two calls as the Yahoo provider (`history`, `info`).
The sample command serves them through yfinance's own code (`ingest/yfinance/replay.py`),
so the sample path runs yf.download, Ticker.history and the very same dlt source,
normalization and audit code as the real load. What `history` returns is what
`Ticker.history(..., auto_adjust=False, actions=True)` would return on `request_day`: a
tz-aware America/New_York index and the columns `Open High Low Close Adj Close Volume
Dividends Stock Splits`.

The sample world:
- daily bars on every real NYSE session of the last `daily_years` years up to `as_of`;
- 1-minute bars on the last `minute_sessions` sessions, one bar per minute from the
  open to the close of each session (early closes included), with a few minutes
  missing as on thin tape; the daily bar of those sessions is their rollup;
- quarterly dividends for payers, splits (`SPLITS`) and a handful of deliberate defects
  (`DEFECTS`) so the quality gates have work;
- the currency pairs the sample's accounts need (`SAMPLE_FX_PAIRS`: EURUSD=X), with Yahoo's
  conventions for them (ingest/yfinance/fx.py): daily bars on every weekday, US holidays
  included, stamped 00:00 Europe/London, Volume 0; no minute bars.

Underneath is one world as traded (`traded_history`: a split divides the price from its
ex-date on, nothing before it changes), fixed by the seed and `as_of` whatever the request
day. `history` answers as Yahoo does on `request_day` (default `as_of`): no bar after it;
for every split with ex-date <= request_day, each earlier bar's Open/High/Low/Close
divided by the ratio and its Volume multiplied by it (daily and minute bars), and the
dividends up to and including the ex-date divided (a dividend is per share held before
its ex-date); later splits neither applied nor shown. `Adj Close` is that Close times
Yahoo's dividend multiplier over the ex-dates in (bar, request_day], each factor
1 - dividend / previous close on that same basis. So a load on an earlier day and a later
one describe one world, each in the basis of its own request day.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from ingest import calendar
from ingest.yfinance import fx

EXCHANGE_TZ = "America/New_York"
YAHOO_COLUMNS = ["Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits"]
# The world as traded has no adjusted close: that is a view of the request day.
TRADED_COLUMNS = [c for c in YAHOO_COLUMNS if c != "Adj Close"]
PRICE_COLUMNS = ["Open", "High", "Low", "Close"]


@dataclass(frozen=True)
class SampleTicker:
    symbol: str
    name: str
    exchange: str  # Yahoo's exchange code, as the provider says it (NMS, NYQ, PCX)
    quote_type: str  # EQUITY or ETF
    sector: str | None
    industry: str | None
    start_price: float
    annual_volatility: float
    dividend_yield: float
    average_volume: int


# fmt: off
SAMPLE_UNIVERSE: tuple[SampleTicker, ...] = (
    SampleTicker("SPY", "SPDR S&P 500 ETF Trust", "PCX", "ETF", None, None, 420.0, 0.16, 0.013, 70_000_000),
    SampleTicker("QQQ", "Invesco QQQ Trust, Series 1", "NMS", "ETF", None, None, 350.0, 0.21, 0.006, 45_000_000),
    SampleTicker("IWM", "iShares Russell 2000 ETF", "PCX", "ETF", None, None, 190.0, 0.22, 0.012, 30_000_000),
    SampleTicker("XLK", "Technology Select Sector SPDR Fund", "PCX", "ETF", None, None, 160.0, 0.22, 0.007, 8_000_000),
    SampleTicker("XLF", "Financial Select Sector SPDR Fund", "PCX", "ETF", None, None, 35.0, 0.18, 0.016, 40_000_000),
    SampleTicker("XLE", "Energy Select Sector SPDR Fund", "PCX", "ETF", None, None, 85.0, 0.25, 0.033, 18_000_000),
    SampleTicker("XLV", "Health Care Select Sector SPDR Fund", "PCX", "ETF", None, None, 130.0, 0.14, 0.015, 9_000_000),
    SampleTicker("AAPL", "Apple Inc.", "NMS", "EQUITY", "Technology", "Consumer Electronics", 150.0, 0.27, 0.005, 55_000_000),
    SampleTicker("MSFT", "Microsoft Corporation", "NMS", "EQUITY", "Technology", "Software - Infrastructure", 280.0, 0.25, 0.008, 22_000_000),
    SampleTicker("NVDA", "NVIDIA Corporation", "NMS", "EQUITY", "Technology", "Semiconductors", 300.0, 0.50, 0.0005, 40_000_000),
    SampleTicker("AMZN", "Amazon.com, Inc.", "NMS", "EQUITY", "Consumer Cyclical", "Internet Retail", 110.0, 0.33, 0.0, 45_000_000),
    SampleTicker("GOOGL", "Alphabet Inc.", "NMS", "EQUITY", "Communication Services", "Internet Content & Information", 100.0, 0.30, 0.004, 30_000_000),
    SampleTicker("META", "Meta Platforms, Inc.", "NMS", "EQUITY", "Communication Services", "Internet Content & Information", 200.0, 0.40, 0.003, 15_000_000),
    SampleTicker("JPM", "JPMorgan Chase & Co.", "NYQ", "EQUITY", "Financial Services", "Banks - Diversified", 140.0, 0.22, 0.022, 9_000_000),
    SampleTicker("XOM", "Exxon Mobil Corporation", "NYQ", "EQUITY", "Energy", "Oil & Gas Integrated", 105.0, 0.26, 0.033, 16_000_000),
    SampleTicker("JNJ", "Johnson & Johnson", "NYQ", "EQUITY", "Healthcare", "Drug Manufacturers - General", 160.0, 0.16, 0.030, 7_000_000),
    SampleTicker("PG", "The Procter & Gamble Company", "NYQ", "EQUITY", "Consumer Defensive", "Household & Personal Products", 145.0, 0.16, 0.024, 6_500_000),
    SampleTicker("KO", "The Coca-Cola Company", "NYQ", "EQUITY", "Consumer Defensive", "Beverages - Non-Alcoholic", 60.0, 0.15, 0.030, 13_000_000),
    SampleTicker("TSLA", "Tesla, Inc.", "NMS", "EQUITY", "Consumer Cyclical", "Auto Manufacturers", 250.0, 0.55, 0.0, 100_000_000),
    SampleTicker("BRK-B", "Berkshire Hathaway Inc.", "NYQ", "EQUITY", "Financial Services", "Insurance - Diversified", 320.0, 0.17, 0.0, 3_800_000),
)
# fmt: on

# Splits as (sessions before as_of, ratio). AAPL's lies inside the minute-bar window so
# that minute data crosses a split day too.
SPLITS: dict[str, tuple[int, float]] = {"NVDA": (380, 10.0), "TSLA": (600, 3.0), "AAPL": (8, 2.0)}

# Deliberate defects, each a real failure mode of market data. Keys: (ticker, interval,
# sessions before as_of). The quality gates in dbt must quarantine every one of them.
DEFECTS: dict[tuple[str, str, int], str] = {
    ("KO", "1d", 100): "high_below_low",
    ("XOM", "1d", 200): "non_positive_price",
    ("JPM", "1m", 3): "negative_volume",
    ("MSFT", "1m", 2): "close_above_high",
    ("SPY", "1m", 0): "bar_outside_session",
    ("GOOGL", "1m", 1): "duplicate_timestamp",
}


@dataclass(frozen=True)
class SampleFxPair:
    """A currency pair as Yahoo lists it: `EURUSD=X` is US dollars for one euro."""

    symbol: str
    start_rate: float
    annual_volatility: float

    @property
    def name(self) -> str:  # Yahoo's shortName: "EUR/USD"
        pair = self.symbol.removesuffix(fx.FX_SUFFIX)
        return f"{pair[:3]}/{pair[3:]}"

    @property
    def quote_currency(self) -> str:
        return self.symbol.removesuffix(fx.FX_SUFFIX)[3:]


# The pairs that convert the sample accounts' currencies (EUR) into the default base currency.
SAMPLE_FX_PAIRS: tuple[SampleFxPair, ...] = (SampleFxPair("EURUSD=X", 1.08, 0.075),)


def _seed_for(seed: int, *parts: str) -> np.random.Generator:
    """One independent, reproducible random stream per (seed, ticker, purpose)."""
    return np.random.default_rng([seed, *(zlib.crc32(p.encode()) for p in parts)])


# What a synthetic ticker is drawn from (synthetic_universe). Equities list on NASDAQ (NMS)
# or the NYSE (NYQ), Yahoo's codes as the provider says them.
SYNTHETIC_EXCHANGES = ("NMS", "NYQ")
SYNTHETIC_SECTORS: tuple[tuple[str, str], ...] = (
    ("Technology", "Software - Application"),
    ("Financial Services", "Banks - Regional"),
    ("Healthcare", "Biotechnology"),
    ("Industrials", "Specialty Industrial Machinery"),
    ("Consumer Cyclical", "Specialty Retail"),
    ("Energy", "Oil & Gas E&P"),
    ("Utilities", "Utilities - Regulated Electric"),
)


def synthetic_universe(n: int, seed: int = 42) -> tuple[SampleTicker, ...]:
    """`n` made-up equities B001, B002, ... with seeded, plausible parameters.

    For scales the 20 sample tickers cannot reach (bench/ loads 200). The same (n, seed)
    gives the same universe, and a larger n only adds tickers (up to 999; beyond, symbols
    get a fourth digit). No split or defect is keyed on these symbols, so their bars are
    clean and split-free.
    """
    width = max(3, len(str(n)))
    universe = []
    for i in range(1, n + 1):
        symbol = f"B{i:0{width}d}"
        rng = _seed_for(seed, symbol, "universe")
        sector, industry = SYNTHETIC_SECTORS[int(rng.integers(len(SYNTHETIC_SECTORS)))]
        pays_dividend = rng.random() < 0.6
        universe.append(
            SampleTicker(
                symbol=symbol,
                name=f"Synthetic Company {symbol}",
                exchange=SYNTHETIC_EXCHANGES[int(rng.integers(len(SYNTHETIC_EXCHANGES)))],
                quote_type="EQUITY",
                sector=sector,
                industry=industry,
                start_price=round(float(np.exp(rng.uniform(np.log(10), np.log(500)))), 2),
                annual_volatility=round(float(rng.uniform(0.15, 0.6)), 3),
                dividend_yield=round(float(rng.uniform(0.005, 0.04)), 4) if pays_dividend else 0.0,
                average_volume=int(np.exp(rng.uniform(np.log(1e6), np.log(5e7)))),
            )
        )
    return tuple(universe)


def _empty_history(intraday: bool, columns: list[str] = YAHOO_COLUMNS) -> pd.DataFrame:
    index = pd.DatetimeIndex([], tz=EXCHANGE_TZ, name="Datetime" if intraday else "Date")
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns}, index=index)


def _local_midnight(day: date) -> pd.Timestamp:
    return pd.Timestamp(day).tz_localize(EXCHANGE_TZ)


def _between(frame: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Rows with start <= exchange-local date < end."""
    index = frame.index
    return frame[(index >= _local_midnight(start)) & (index < _local_midnight(end))]


def dividend_multiplier(close: np.ndarray, dividends: np.ndarray) -> np.ndarray:
    """Yahoo's back-adjustment for dividends: each ex-date scales every earlier close by
    1 - dividend / previous close (a previous close that is not positive, a faulty bar,
    gives no factor rather than a division by zero)."""
    if not len(close):
        return np.ones(0)
    previous_close = np.concatenate([[close[0]], close[:-1]])
    positive = previous_close > 0
    factor = np.where(
        (dividends > 0) & positive,
        1.0 - dividends / np.where(positive, previous_close, 1.0),
        1.0,
    )
    # multiplier_i = product of the factors strictly after i
    after = np.cumprod(factor[::-1])[::-1]
    return np.concatenate([after[1:], [1.0]])


class SampleMarket:
    """The offline market: Yahoo-shaped history and info for the sample universe."""

    def __init__(
        self,
        as_of: date,
        *,
        daily_years: int = 3,
        minute_sessions: int = 20,
        seed: int = 42,
        defects: bool = True,
        universe: tuple[SampleTicker, ...] = SAMPLE_UNIVERSE,
        request_day: date | None = None,
        fx_pairs: tuple[SampleFxPair, ...] = SAMPLE_FX_PAIRS,
    ) -> None:
        self.as_of = as_of
        self.request_day = request_day or as_of
        if self.request_day > as_of:
            raise ValueError(f"request day {self.request_day} is after the world's end {as_of}")
        self.seed = seed
        self.defects = defects
        self.universe = {t.symbol: t for t in universe}
        self.fx_pairs = {p.symbol: p for p in fx_pairs}
        daily = calendar.sessions(as_of - timedelta(days=round(365.25 * daily_years)), as_of)
        if len(daily) < minute_sessions:
            raise ValueError("the daily history must cover the minute-bar sessions")
        self.daily_sessions = daily
        self.minute_sessions = daily.tail(minute_sessions).reset_index(drop=True)

    # -- the provider interface -------------------------------------------------------

    @property
    def tickers(self) -> list[str]:
        return list(self.universe)

    @property
    def fx_symbols(self) -> list[str]:
        """The currency pairs the market answers for (loaded beside `tickers`)."""
        return list(self.fx_pairs)

    @property
    def first_minute_session(self) -> date:
        return self.minute_sessions["session_date"].iloc[0]

    @property
    def first_daily_session(self) -> date:
        return self.daily_sessions["session_date"].iloc[0]

    def history(
        self, ticker: str, *, start: date, end: date | None = None, interval: str
    ) -> pd.DataFrame:
        """Bars with start <= exchange-local date < end (no end: through request_day), as
        Yahoo answers on request_day: split-adjusted as of that day, `Adj Close` adding the
        dividends up to it."""
        if interval not in ("1d", "1m"):
            raise ValueError(f"unsupported interval {interval!r}")
        if ticker in self.fx_pairs:
            return self._fx_history(ticker, start=start, end=end, interval=interval)
        if ticker not in self.universe:
            return _empty_history(intraday=interval == "1m")
        known_until = self.request_day + timedelta(days=1)
        end = known_until if end is None else min(end, known_until)
        if interval == "1m":  # Yahoo's intraday Adj Close is the Close: no dividend on it
            frame = self._split_adjusted(ticker, _between(self._minute_frame(ticker), start, end))
            frame["Adj Close"] = frame["Close"]
            return frame[YAHOO_COLUMNS]
        # The dividend multiplier looks past `end` up to the request day: adjust it all.
        everything = _between(self._daily_frame(ticker), self.first_daily_session, known_until)
        frame = self._split_adjusted(ticker, everything)
        frame["Adj Close"] = frame["Close"] * dividend_multiplier(
            frame["Close"].to_numpy(), frame["Dividends"].to_numpy()
        )
        return _between(frame, start, end)[YAHOO_COLUMNS]

    def traded_history(self, ticker: str, *, start: date, end: date, interval: str) -> pd.DataFrame:
        """The world as traded, whatever the request day: each bar as printed on its day
        (a split divides prices from its ex-date on), the dividend per share then held.
        What a broker's books record; columns as `history` without `Adj Close`."""
        if interval not in ("1d", "1m"):
            raise ValueError(f"unsupported interval {interval!r}")
        if ticker not in self.universe:
            return _empty_history(intraday=interval == "1m", columns=TRADED_COLUMNS)
        frame = self._minute_frame(ticker) if interval == "1m" else self._daily_frame(ticker)
        return _between(frame, start, end)[TRADED_COLUMNS].copy()

    def splits(self, ticker: str) -> list[tuple[date, float]]:
        """(ex-date, ratio) of every split of the ticker inside the sample's history."""
        ratios = self._split_ratio(ticker) if ticker in self.universe else np.zeros(0)
        days = self.daily_sessions["session_date"]
        return [(days.iloc[i], float(ratios[i])) for i in np.flatnonzero(ratios)]

    def info(self, ticker: str) -> dict[str, object]:
        """A subset of yfinance's Ticker.info with the same keys."""
        pair = self.fx_pairs.get(ticker)
        if pair is not None:  # what Yahoo says of a currency pair
            return {
                "symbol": pair.symbol,
                "shortName": pair.name,
                "exchange": fx.FX_EXCHANGE,
                "exchangeTimezoneName": fx.FX_TIMEZONE,
                "currency": pair.quote_currency,
                "quoteType": fx.FX_QUOTE_TYPE,
            }
        spec = self.universe.get(ticker)
        if spec is None:
            return {"trailingPegRatio": None}
        info: dict[str, object] = {
            "symbol": spec.symbol,
            "longName": spec.name,
            "shortName": spec.name[:30],
            "exchange": spec.exchange,
            "exchangeTimezoneName": EXCHANGE_TZ,
            "currency": "USD",
            "quoteType": spec.quote_type,
        }
        if spec.sector:
            info |= {"sector": spec.sector, "industry": spec.industry}
        return info

    # -- currency pairs ---------------------------------------------------------------

    def _fx_history(
        self, symbol: str, *, start: date, end: date | None, interval: str
    ) -> pd.DataFrame:
        """A pair's daily bars as Yahoo gives them: London days start <= day < end (no end:
        through request_day), none after request_day; no minute bars are served."""
        frame = self._fx_frame(symbol)
        if interval == "1m":
            return frame.iloc[0:0].rename_axis("Datetime")
        days = frame.index.date
        keep = (days >= start) & (days <= self.request_day)
        if end is not None:
            keep &= days < end
        return frame[keep].copy()

    @lru_cache(maxsize=8)  # noqa: B019 - one instance per run; the cache dies with it
    def _fx_frame(self, symbol: str) -> pd.DataFrame:
        """Every weekday from a week before the first equity session through as_of (US and
        UK holidays included: FX trades through them), a seeded mean-reverting walk of the
        rate; index at
        00:00 Europe/London, Volume 0, Adj Close = Close, no actions."""
        pair = self.fx_pairs[symbol]
        days = pd.bdate_range(self.first_daily_session - timedelta(days=7), self.as_of)
        rng = _seed_for(self.seed, symbol, "fx")
        sigma = pair.annual_volatility / np.sqrt(260)
        # log rate pulled back towards the start (FX rates wander, they do not trend)
        shocks = sigma * rng.standard_normal(len(days))
        log_deviation = np.zeros(len(days))
        for i in range(1, len(days)):
            log_deviation[i] = 0.99 * log_deviation[i - 1] + shocks[i]
        close = pair.start_rate * np.exp(log_deviation)
        open_ = np.concatenate([[pair.start_rate], close[:-1]])
        spread = np.abs(0.5 * sigma * rng.standard_normal((2, len(days))))
        high = np.maximum(open_, close) * np.exp(spread[0])
        low = np.minimum(open_, close) * np.exp(-spread[1])
        frame = pd.DataFrame(
            {
                "Open": np.round(open_, 6),
                "High": np.round(high, 6),
                "Low": np.round(low, 6),
                "Close": np.round(close, 6),
            },
            index=pd.DatetimeIndex(days, name="Date").tz_localize(fx.FX_TIMEZONE),
        )
        frame["Adj Close"] = frame["Close"]
        frame["Volume"] = np.zeros(len(frame), dtype="int64")
        frame["Dividends"] = 0.0
        frame["Stock Splits"] = 0.0
        return frame[YAHOO_COLUMNS]

    def fx_rate(self, symbol: str, day: date) -> float:
        """The pair's close of the latest London day at or before `day`."""
        frame = self._fx_frame(symbol)
        return float(frame["Close"][frame.index.date <= day].iloc[-1])

    # -- generation -------------------------------------------------------------------

    @cached_property
    def _session_minutes(self) -> list[pd.DatetimeIndex]:
        """Bar-open instants (UTC) of every minute of each minute-bar session."""
        return [
            pd.date_range(row.open_at, row.close_at, freq="1min", inclusive="left")
            for row in self.minute_sessions.itertuples()
        ]

    def _economic_path(self, spec: SampleTicker) -> dict[str, np.ndarray]:
        """Split-free daily open/close/high/low/volume before any rollup from minutes."""
        n = len(self.daily_sessions)
        rng = _seed_for(self.seed, spec.symbol, "daily")
        sigma = spec.annual_volatility / np.sqrt(252)
        log_returns = 0.08 / 252 - sigma**2 / 2 + sigma * rng.standard_normal(n)
        close = spec.start_price * np.exp(np.cumsum(log_returns))
        previous_close = np.concatenate([[spec.start_price], close[:-1]])
        open_ = previous_close * np.exp(0.3 * sigma * rng.standard_normal(n))
        high = np.maximum(open_, close) * np.exp(np.abs(0.4 * sigma * rng.standard_normal(n)))
        low = np.minimum(open_, close) * np.exp(-np.abs(0.4 * sigma * rng.standard_normal(n)))
        volume = spec.average_volume * np.exp(0.3 * rng.standard_normal(n))
        return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}

    def _split_ratio(self, ticker: str) -> np.ndarray:
        ratios = np.zeros(len(self.daily_sessions))
        sessions_back, ratio = SPLITS.get(ticker, (len(ratios), 0.0))
        if sessions_back < len(ratios):  # a short sample may start after the split
            ratios[len(ratios) - 1 - sessions_back] = ratio
        return ratios

    @lru_cache(maxsize=64)  # noqa: B019 - one instance per run; the cache dies with it
    def _bars(self, ticker: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(daily, minute) frames of one ticker as traded, consistent with each other."""
        spec = self.universe[ticker]
        path = self._economic_path(spec)
        split_ratio = self._split_ratio(ticker)
        # As traded: every price after a split is divided by the cumulative ratio.
        cumulative_split = np.cumprod(np.where(split_ratio > 0, split_ratio, 1.0))
        daily = pd.DataFrame(
            {
                "Open": path["open"] / cumulative_split,
                "High": path["high"] / cumulative_split,
                "Low": path["low"] / cumulative_split,
                "Close": path["close"] / cumulative_split,
                "Volume": path["volume"] * cumulative_split,
            }
        )
        minutes = self._minute_bars(spec, daily.tail(len(self.minute_sessions)))
        rollup = minutes.groupby("session").agg(
            Open=("Open", "first"),
            High=("High", "max"),
            Low=("Low", "min"),
            Close=("Close", "last"),
            Volume=("Volume", "sum"),
        )
        first_minute_row = len(daily) - len(self.minute_sessions)
        daily.iloc[first_minute_row:, :5] = rollup.to_numpy()
        daily[["Open", "High", "Low", "Close"]] = daily[["Open", "High", "Low", "Close"]].round(4)
        daily["Volume"] = daily["Volume"].round().astype("int64")
        daily["Dividends"] = self._dividends(spec, daily["Close"].to_numpy())
        daily["Stock Splits"] = split_ratio
        daily.index = pd.DatetimeIndex(
            pd.to_datetime(self.daily_sessions["session_date"]), name="Date"
        ).tz_localize(EXCHANGE_TZ)
        minute_frame = minutes.drop(columns="session")
        minute_frame["Dividends"] = 0.0
        minute_frame["Stock Splits"] = 0.0
        if self.defects:
            daily, minute_frame = self._inject_defects(ticker, daily, minute_frame)
        return daily[TRADED_COLUMNS], minute_frame[TRADED_COLUMNS]

    def _daily_frame(self, ticker: str) -> pd.DataFrame:
        return self._bars(ticker)[0]

    def _minute_frame(self, ticker: str) -> pd.DataFrame:
        return self._bars(ticker)[1]

    def _minute_bars(self, spec: SampleTicker, days: pd.DataFrame) -> pd.DataFrame:
        """A Brownian bridge from each session's open to its close, one bar a minute."""
        rng = _seed_for(self.seed, spec.symbol, "minute")
        sigma_minute = spec.annual_volatility / np.sqrt(252 * 390)
        frames = []
        for session, (minutes, day) in enumerate(
            zip(self._session_minutes, days.itertuples(), strict=True)
        ):
            n = len(minutes)
            steps = np.arange(1, n + 1) / n
            walk = np.cumsum(sigma_minute * rng.standard_normal(n))
            bridge = walk - steps * walk[-1]
            log_path = np.log(day.Open) + steps * (np.log(day.Close) - np.log(day.Open)) + bridge
            close = np.round(np.exp(log_path), 4)
            open_ = np.concatenate([[round(day.Open, 4)], close[:-1]])
            wiggle = np.abs(0.5 * sigma_minute * rng.standard_normal((2, n)))
            high = np.round(np.maximum(open_, close) * np.exp(wiggle[0]), 4)
            low = np.round(np.minimum(open_, close) * np.exp(-wiggle[1]), 4)
            # U-shaped intraday volume: busy at the open and the close.
            profile = 1.0 + 2.5 * (np.linspace(-1, 1, n) ** 2)
            volume = day.Volume * profile / profile.sum() * np.exp(0.4 * rng.standard_normal(n))
            keep = rng.random(n) > 0.002  # a few minutes with no trade at all
            keep[0] = True
            if (spec.symbol, session) == ("IWM", 5):
                keep[:3] = False  # first trade three minutes after the open
            frames.append(
                pd.DataFrame(
                    {
                        "session": session,
                        "Open": open_,
                        "High": high,
                        "Low": low,
                        "Close": close,
                        "Volume": np.round(volume).astype("int64"),
                    },
                    index=minutes,
                )[keep]
            )
        frame = pd.concat(frames)
        frame.index = frame.index.tz_convert(EXCHANGE_TZ).rename("Datetime")
        return frame

    def _dividends(self, spec: SampleTicker, close: np.ndarray) -> np.ndarray:
        dividends = np.zeros(len(close))
        if spec.dividend_yield <= 0:
            return dividends
        offset = zlib.crc32(spec.symbol.encode()) % 63
        for ex_index in range(max(offset, 1), len(close), 63):
            dividends[ex_index] = round(close[ex_index - 1] * spec.dividend_yield / 4, 4)
        return dividends

    def _split_adjusted(self, ticker: str, frame: pd.DataFrame) -> pd.DataFrame:
        """As-traded bars in the basis of the request day: every split up to that day
        divides the prices of each earlier bar and multiplies its volume. A dividend is per
        share held before its ex-date, so one going ex with the split is divided too (Yahoo
        reports Shin-Etsu's 275 yen as 55 beside its 5:1 split of 2023-03-30)."""
        frame = frame[TRADED_COLUMNS].copy()
        bar_factor, dividend_factor = np.ones(len(frame)), np.ones(len(frame))
        for ex_date, ratio in self.splits(ticker):
            if ex_date <= self.request_day:
                bar_factor[frame.index < _local_midnight(ex_date)] *= ratio
                dividend_factor[frame.index.normalize() <= _local_midnight(ex_date)] *= ratio
        if (bar_factor != 1.0).any():
            for column in PRICE_COLUMNS:
                frame[column] = frame[column].to_numpy() / bar_factor
            frame["Volume"] = np.round(frame["Volume"].to_numpy() * bar_factor).astype("int64")
        if (dividend_factor != 1.0).any():
            frame["Dividends"] = frame["Dividends"].to_numpy() / dividend_factor
        return frame

    def _inject_defects(
        self, ticker: str, daily: pd.DataFrame, minutes: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        for (symbol, interval, sessions_back), defect in DEFECTS.items():
            sessions = len(daily) if interval == "1d" else len(self.minute_sessions)
            if symbol != ticker or sessions_back >= sessions:
                continue
            if interval == "1d":
                row = daily.index[len(daily) - 1 - sessions_back]
                if defect == "high_below_low":
                    daily.loc[row, ["High", "Low"]] = daily.loc[row, ["Low", "High"]].to_numpy()
                elif defect == "non_positive_price":
                    daily.loc[row, "Close"] = 0.0
                continue
            session = self.minute_sessions.iloc[len(self.minute_sessions) - 1 - sessions_back]
            local_day = minutes.index.date == session.session_date
            row = minutes.index[local_day][len(minutes.index[local_day]) // 2]
            if defect == "negative_volume":
                minutes.loc[row, "Volume"] = -100
            elif defect == "close_above_high":
                minutes.loc[row, "Close"] = round(minutes.loc[row, "High"] * 1.01, 4)
            elif defect == "bar_outside_session":
                # Yahoo sometimes sends a bar stamped at the close itself.
                extra = minutes.iloc[[-1]].copy()
                extra.index = pd.DatetimeIndex([session.close_at], name="Datetime").tz_convert(
                    EXCHANGE_TZ
                )
                minutes = pd.concat([minutes, extra])
            elif defect == "duplicate_timestamp":
                restated = minutes.loc[[row]].copy()
                restated["Close"] = round(float(restated["Close"].iloc[0]) * 1.001, 4)
                restated["High"] = max(
                    float(restated["High"].iloc[0]), float(restated["Close"].iloc[0])
                )
                minutes = pd.concat([minutes, restated]).sort_index(kind="stable")
        return daily, minutes
