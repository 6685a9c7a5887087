"""Yahoo's frames -> raw-contract arrow tables (names, types, UTC; nothing else).

Ingest keeps what the provider said: bad values stay in raw for dbt to quarantine
with a reason. The only row-level change is dropping exact key repeats inside one
response (Yahoo sometimes sends the same timestamp twice; the last one wins, as a
merge would decide anyway) and the count of those is reported to the audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

PRICE_COLUMNS = {"Open": "open", "High": "high", "Low": "low", "Close": "close"}
ACTION_COLUMNS = ("Dividends", "Stock Splits")

BARS_1M_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.int64()),
        # Nullable in the database: a warehouse loaded before the column existed gets it
        # added by dlt (ADD COLUMN ... NOT NULL fails on a table with rows); staging reads a
        # null as the day of the row's load. Every new row has it.
        ("adjusted_as_of", pa.date32()),
    ]
)

BARS_1D_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        pa.field("trade_date", pa.date32(), nullable=False),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("adj_close", pa.float64()),
        ("volume", pa.int64()),
        ("dividends", pa.float64()),
        ("stock_splits", pa.float64()),
        # Nullable in the database: a warehouse loaded before the column existed gets it
        # added by dlt (ADD COLUMN ... NOT NULL fails on a table with rows); staging reads a
        # null as the day of the row's load. Every new row has it.
        ("adjusted_as_of", pa.date32()),
    ]
)

TICKERS_SCHEMA = pa.schema(
    [
        pa.field("ticker", pa.string(), nullable=False),
        ("name", pa.string()),
        ("exchange", pa.string()),
        ("exchange_timezone", pa.string()),
        ("currency", pa.string()),
        ("quote_type", pa.string()),
        ("sector", pa.string()),
        ("industry", pa.string()),
    ]
)


@dataclass(frozen=True)
class Batch:
    """One ticker's normalized rows and what normalization noticed."""

    table: pa.Table
    rows_received: int
    duplicates_removed: int


def split_multi_ticker(frame: pd.DataFrame, tickers: list[str]) -> dict[str, pd.DataFrame]:
    """One frame per ticker from yf.download's multi-ticker layout.

    yf.download returns MultiIndex columns, (Ticker, Price) with group_by="ticker" or
    (Price, Ticker) by default, on one index shared by all tickers: a ticker without a bar
    on a day has a row of NaN there, which is dropped unless it carries a dividend or split.
    A ticker missing from the columns or with no bar at all maps to an empty frame.
    """
    if frame.empty or not isinstance(frame.columns, pd.MultiIndex):
        if len(tickers) == 1 and not frame.empty:
            return {tickers[0]: frame}
        return {ticker: frame.iloc[0:0] for ticker in tickers}
    level = next(
        (
            i
            for i in range(frame.columns.nlevels)
            if set(frame.columns.get_level_values(i)) & set(tickers)
        ),
        None,
    )
    frames: dict[str, pd.DataFrame] = {}
    for ticker in tickers:
        if level is None or ticker not in frame.columns.get_level_values(level):
            frames[ticker] = frame.iloc[0:0, 0:0]
            continue
        one = frame.xs(ticker, axis=1, level=level)
        prices = [c for c in PRICE_COLUMNS if c in one.columns]
        no_prices = one[prices].isna().all(axis=1)
        # A row without prices that carries a dividend or split is real (SSNLF, 2009-12-29):
        # kept, as Ticker.history keeps it, for dbt to quarantine with its action.
        actions = [c for c in ACTION_COLUMNS if c in one.columns]
        has_action = one[actions].fillna(0).ne(0).any(axis=1)
        frames[ticker] = one[~no_prices | has_action]
    return frames


def _float_column(frame: pd.DataFrame, name: str, default: float | None = None) -> pa.Array:
    if name not in frame:
        return pa.array([default] * len(frame), type=pa.float64())
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
    if default is not None:
        values = np.where(np.isnan(values), default, values)
    return pa.array(values, type=pa.float64(), from_pandas=True)


def _volume_column(frame: pd.DataFrame) -> pa.Array:
    values = pd.to_numeric(frame["Volume"], errors="coerce").to_numpy(dtype="float64")
    missing = np.isnan(values)
    return pa.array(np.where(missing, 0, values).astype("int64"), mask=missing, type=pa.int64())


def _require_tz_aware(frame: pd.DataFrame) -> pd.DatetimeIndex:
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("expected a tz-aware DatetimeIndex as yfinance returns")
    return index


def _exchange_local_dates(frame: pd.DataFrame) -> tuple[pd.DatetimeIndex, pd.Index]:
    """Daily bars' days: Ticker.history's index is tz-aware in the exchange's zone, and
    yf.download strips that zone for daily intervals (ignore_tz), leaving the same local
    midnight; either way the date as written is the exchange-local trading day."""
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError("expected a DatetimeIndex of exchange-local days as yfinance returns")
    return index, pd.Index(index.date)


def _as_of_column(day: date, rows: int) -> pa.Array:
    return pa.array([day] * rows, type=pa.date32())


def _dedupe_last(frame: pd.DataFrame, key: pd.Index) -> tuple[pd.DataFrame, pd.Index, int]:
    keep = ~key.duplicated(keep="last")
    return frame[keep], key[keep], int((~keep).sum())


def bars_1m(ticker: str, frame: pd.DataFrame, *, adjusted_as_of: date) -> Batch:
    """Minute bars: `ts` is the bar's open instant in UTC. `adjusted_as_of` is the day of the
    request: Yahoo's prices and volumes are split-adjusted for every split up to that day."""
    index = _require_tz_aware(frame)
    ts = index.tz_convert("UTC")
    frame, ts, duplicates = _dedupe_last(frame, ts)
    table = pa.table(
        {
            "ticker": pa.array([ticker] * len(frame), type=pa.string()),
            "ts": pa.array(ts.as_unit("us"), type=pa.timestamp("us", tz="UTC")),
            **{raw: _float_column(frame, yahoo) for yahoo, raw in PRICE_COLUMNS.items()},
            "volume": _volume_column(frame),
            "adjusted_as_of": _as_of_column(adjusted_as_of, len(frame)),
        },
        schema=BARS_1M_SCHEMA,
    )
    return Batch(table, rows_received=len(index), duplicates_removed=duplicates)


def bars_1d(ticker: str, frame: pd.DataFrame, *, adjusted_as_of: date) -> Batch:
    """Daily bars: `trade_date` is the exchange-local day of Yahoo's index (tz-aware from
    Ticker.history, naive from yf.download). `adjusted_as_of` is the day of the request: the
    row's OHLC, volume and dividends are split-adjusted for every split up to that day."""
    index, trade_dates = _exchange_local_dates(frame)
    frame, trade_dates, duplicates = _dedupe_last(frame, trade_dates)
    table = pa.table(
        {
            "ticker": pa.array([ticker] * len(frame), type=pa.string()),
            "trade_date": pa.array(list(trade_dates), type=pa.date32()),
            **{raw: _float_column(frame, yahoo) for yahoo, raw in PRICE_COLUMNS.items()},
            "adj_close": _float_column(frame, "Adj Close"),
            "volume": _volume_column(frame),
            "dividends": _float_column(frame, "Dividends", default=0.0),
            "stock_splits": _float_column(frame, "Stock Splits", default=0.0),
            "adjusted_as_of": _as_of_column(adjusted_as_of, len(frame)),
        },
        schema=BARS_1D_SCHEMA,
    )
    return Batch(table, rows_received=len(index), duplicates_removed=duplicates)


def ticker_row(ticker: str, info: dict[str, Any]) -> dict[str, str | None]:
    """One row of raw_yfinance.tickers from yfinance's Ticker.info."""
    return {
        "ticker": ticker,
        "name": info.get("longName") or info.get("shortName"),
        "exchange": info.get("exchange"),
        "exchange_timezone": info.get("exchangeTimezoneName"),
        "currency": info.get("currency"),
        "quote_type": info.get("quoteType"),
        "sector": info.get("sector"),
        "industry": info.get("industry"),
    }
