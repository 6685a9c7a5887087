"""A straightforward pandas implementation of the daily features and the minute marts.

What a Python shop would write without a warehouse: read the raw tables into pandas,
keep the latest version of each bar, quarantine the same defects, then groupby / rolling /
merge. It covers the market lineage of the marts - int_bars_1d_validated/_adjusted ->
fct_price_features_daily, and int_bars_1m_validated/_aligned -> fct_bars_1m,
fct_bars_5m/15m/60m, fct_intraday_features - not the portfolio or quality marts.
The daily features themselves come from the test suite's independent reference
(tests/test_features_reference.py: every feature of the mart, EMAs by ewm) when it is
there, else from `subset_features` here. Idiomatic, vectorised pandas (categorical
tickers, groupby-rolling, no Python loop over minute groups); no numba, no polars.
The outputs are written to a DuckDB file as dbt writes tables, and `agreement` checks
them against the marts, so that the comparison is between equal results.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ingest import calendar

NEW_YORK = "America/New_York"
BENCHMARK = "SPY"
MINUTE = pd.Timedelta(minutes=1)
ROLLUPS = (5, 15, 60)


def _latest_versions(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Keep the bar of the latest load per key (loaded_at, then load id, as dbt orders)."""
    frame["loaded_at"] = frame["_dlt_load_id"].astype("float64")
    frame = frame.sort_values([*key, "loaded_at", "_dlt_load_id"])
    return frame.drop_duplicates(key, keep="last")


def recorded_splits(raw_1d: pd.DataFrame) -> pd.DataFrame:
    """The splits of the daily bars (latest version of each bar): ticker, ex_date, ratio."""
    bars = _latest_versions(raw_1d.copy(), ["ticker", "trade_date"])
    ratio = bars["stock_splits"].fillna(0)
    splits = bars.loc[(ratio > 0) & (ratio != 1), ["ticker", "trade_date", "stock_splits"]]
    return splits.rename(columns={"trade_date": "ex_date", "stock_splits": "ratio"})


def as_traded(bars: pd.DataFrame, day: pd.Series, splits: pd.DataFrame) -> pd.DataFrame:
    """Yahoo's bars are split-adjusted as of the day of the request (`adjusted_as_of`): times
    the ratios of the splits after the bar's day up to that day, they are as traded."""
    as_of = pd.to_datetime(bars["adjusted_as_of"]).fillna(
        pd.to_datetime(bars["_dlt_load_id"].astype("float64"), unit="s").dt.normalize()
    )
    day = pd.to_datetime(day)
    factor, dividend_factor = np.ones(len(bars)), np.ones(len(bars))
    for split in splits.itertuples():  # a handful of splits: one vectorised pass each
        ex_date = pd.Timestamp(split.ex_date)
        ticker = bars["ticker"] == split.ticker
        factor[(ticker & (day < ex_date) & (as_of >= ex_date)).to_numpy()] *= split.ratio
        # A dividend on a split's ex-date is per pre-split share.
        dividend_factor[(ticker & (day <= ex_date) & (as_of >= ex_date)).to_numpy()] *= split.ratio
    bars = bars.copy()
    for column in ("open", "high", "low", "close"):
        bars[column] = bars[column] * factor
    bars["volume"] = (bars["volume"] / factor).round().astype(bars["volume"].dtype)
    if "dividends" in bars:
        bars["dividends"] = bars["dividends"] * dividend_factor
    return bars


def _price_defects(frame: pd.DataFrame) -> pd.Series:
    prices = frame[["open", "high", "low", "close"]]
    return (
        prices.isna().any(axis=1)
        | (prices.min(axis=1) <= 0)
        | (frame["high"] < frame["low"])
        | ~frame["open"].between(frame["low"], frame["high"])
        | ~frame["close"].between(frame["low"], frame["high"])
        | (frame["volume"] < 0)
    )


# -- daily ------------------------------------------------------------------------------


def adjusted_daily(raw: pd.DataFrame) -> pd.DataFrame:
    """int_bars_1d_validated -> int_bars_1d_adjusted: the clean bars with Yahoo's adjustment
    computed from the actions, in that model's column names (raw OHLC left out)."""
    bars = _latest_versions(raw, ["ticker", "trade_date"])
    bars = as_traded(bars, bars["trade_date"], recorded_splits(raw))
    today = pd.Timestamp(datetime.now(UTC).date())
    bars = bars[~_price_defects(bars) & (bars["trade_date"] <= today)]
    bars = bars.sort_values(["ticker", "trade_date"], ignore_index=True)
    split_ratio = bars["stock_splits"].fillna(0).replace(0, 1.0)
    dividend = bars["dividends"].fillna(0)
    previous_close = bars.groupby("ticker", observed=True, sort=False)["close"].shift(1)
    event_factor = (1 / split_ratio) * (1 - dividend / previous_close.fillna(bars["close"]))
    # factor_t = product of the event factors after t
    after_and_at = event_factor.iloc[::-1].groupby(bars["ticker"], observed=True).cumprod()
    factor = after_and_at.iloc[::-1].groupby(bars["ticker"], observed=True).shift(-1).fillna(1.0)
    return pd.DataFrame(
        {
            "ticker": bars["ticker"],
            "trade_date": bars["trade_date"],
            "close": bars["close"],
            "volume": bars["volume"],
            "dividend_per_share": dividend,
            "split_ratio": split_ratio,
            "adjustment_factor": factor,
            "adj_close": bars["close"] * factor,
            "adj_open": bars["open"] * factor,
            "adj_high": bars["high"] * factor,
            "adj_low": bars["low"] * factor,
            "previous_close": previous_close,
        }
    )


def daily_features(raw: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The features mart from raw daily bars, and which reference computed the features:
    the test suite's (tests/test_features_reference.py, every feature of the mart) when it
    is there and runs, else this module's subset."""
    bars = adjusted_daily(raw)
    try:
        from tests.test_features_reference import reference_features
    except ImportError:
        return subset_features(bars), "bench/pandas_reference.py subset"
    try:
        return reference_features(bars), "tests/test_features_reference.py"
    except Exception as error:  # that file is another engineer's, and may be mid-change
        return subset_features(bars), f"bench/pandas_reference.py subset (the test's: {error!r})"


def subset_features(bars: pd.DataFrame) -> pd.DataFrame:
    """Returns, SMAs, Bollinger bands, volatility, 52-week range, drawdown, volume z-score,
    OBV and beta: the features whose SQL is windows, not recursions."""
    adj = bars["adj_close"]
    by_ticker = bars.groupby("ticker", observed=True, sort=False)
    out = bars[["ticker", "trade_date", "close", "adj_close", "volume"]].copy()
    out["high"], out["low"] = bars["adj_high"], bars["adj_low"]
    previous = by_ticker["adj_close"].shift(1)
    out["return_1d"] = adj / previous - 1
    out["log_return_1d"] = np.log(adj / previous)
    out["return_5d"] = adj / by_ticker["adj_close"].shift(5) - 1
    out["return_21d"] = adj / by_ticker["adj_close"].shift(21) - 1

    def rolling(column: pd.Series, n: int) -> Any:
        return column.groupby(bars["ticker"], observed=True, sort=False).rolling(n, min_periods=n)

    def per_row(result: pd.Series) -> pd.Series:
        return result.reset_index(level=0, drop=True).sort_index()

    for n in (5, 20, 50, 200):
        out[f"sma_{n}"] = per_row(rolling(adj, n).mean())
    stddev_20 = per_row(rolling(adj, 20).std(ddof=0))
    out["bb_upper_20"] = out["sma_20"] + 2 * stddev_20
    out["bb_lower_20"] = out["sma_20"] - 2 * stddev_20
    out["volatility_20d"] = per_row(rolling(out["log_return_1d"], 20).std()) * np.sqrt(252)
    out["high_52w"] = per_row(rolling(out["high"], 252).max())
    out["low_52w"] = per_row(rolling(out["low"], 252).min())
    out["drawdown"] = adj / by_ticker["adj_close"].cummax() - 1
    volume = bars["volume"].astype("float64")
    out["volume_zscore_20"] = (volume - per_row(rolling(volume, 20).mean())) / per_row(
        rolling(volume, 20).std(ddof=0)
    ).replace(0, np.nan)
    signed = np.sign(adj - previous).fillna(0) * bars["volume"]
    out["obv"] = signed.groupby(bars["ticker"], observed=True).cumsum().astype("int64")
    out["beta_60d"] = _beta(out, by_ticker["trade_date"].shift(1))
    return out


def _beta(out: pd.DataFrame, previous_date: pd.Series) -> pd.Series:
    """cov(r, r_SPY) / var(r_SPY) over the last 60 pairs spanning the same two sessions."""
    pairs = pd.DataFrame(
        {"ticker": out["ticker"], "trade_date": out["trade_date"], "previous": previous_date}
    )
    pairs["r"] = out["return_1d"]
    benchmark = pairs[pairs["ticker"] == BENCHMARK][["trade_date", "previous", "r"]]
    matched = pairs.reset_index().merge(
        benchmark.rename(columns={"r": "b"}), on=["trade_date", "previous"], how="inner"
    )
    matched = matched.sort_values(["ticker", "trade_date"])
    grouped = matched.assign(rb=matched["r"] * matched["b"], bb=matched["b"] ** 2).groupby(
        "ticker", observed=True, sort=False
    )
    sums = grouped[["rb", "r", "b", "bb"]].rolling(60, min_periods=60).sum()
    sums = sums.reset_index(level=0, drop=True)
    sums.index = matched.loc[sums.index, "index"].to_numpy()
    variance = (sums["bb"] - sums["b"] ** 2 / 60).replace(0, np.nan)
    return ((sums["rb"] - sums["r"] * sums["b"] / 60) / variance).reindex(out.index)


# -- minutes ----------------------------------------------------------------------------


def validated_minutes(
    raw: pd.DataFrame, tickers: pd.DataFrame, splits: pd.DataFrame
) -> pd.DataFrame:
    """Clean minute bars, as traded, located in their NYSE session."""
    bars = _latest_versions(raw, ["ticker", "ts"])
    local_day = bars["ts"].dt.tz_convert(NEW_YORK).dt.tz_localize(None).dt.normalize()
    bars = as_traded(bars, local_day, splits)
    bars["session_date"] = local_day.astype("datetime64[us]")
    first, last = local_day.min().date(), local_day.max().date()
    sessions = calendar.sessions(first, last)
    sessions = pd.DataFrame(
        {
            "session_date": pd.to_datetime(sessions["session_date"]).astype("datetime64[us]"),
            "open_at": sessions["open_at"].dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
            "close_at": sessions["close_at"].dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
        }
    )
    bars = bars.merge(sessions, on="session_date", how="left")
    outside = (
        bars["open_at"].isna() | (bars["ts"] < bars["open_at"]) | (bars["ts"] >= bars["close_at"])
    )
    rejected = (
        ~bars["ticker"].isin(tickers["ticker"])
        | _price_defects(bars)
        | (bars["ts"] > pd.Timestamp.now(tz="UTC"))
        | outside
        | (bars["ts"].dt.floor("min") != bars["ts"])
    )
    return bars[~rejected]


def aligned_minutes(clean: pd.DataFrame) -> pd.DataFrame:
    """Every minute from a session's first trade to its close; gaps forward-filled."""
    sessions = clean.groupby(["ticker", "session_date"], observed=True, sort=True).agg(
        first_trade_at=("ts", "min"), open_at=("open_at", "first"), close_at=("close_at", "first")
    )
    sessions = sessions.reset_index()
    minutes = ((sessions["close_at"] - sessions["first_trade_at"]) // MINUTE).to_numpy()
    starts = np.repeat(np.cumsum(minutes) - minutes, minutes)
    offsets = np.arange(minutes.sum()) - starts
    grid = sessions.loc[sessions.index.repeat(minutes)].reset_index(drop=True)
    grid["bar_at"] = grid["first_trade_at"] + pd.to_timedelta(offsets, unit="min")
    bars = clean[["ticker", "ts", "open", "high", "low", "close", "volume"]]
    joined = grid.merge(bars.rename(columns={"ts": "bar_at"}), on=["ticker", "bar_at"], how="left")
    joined["is_filled"] = joined["close"].isna()
    last_close = joined.groupby(["ticker", "session_date"], observed=True)["close"].ffill()
    for column in ("open", "high", "low", "close"):
        joined[column] = joined[column].fillna(last_close)
    joined["volume"] = joined["volume"].fillna(0).astype("int64")
    return joined.drop(columns="first_trade_at")


def minute_windows(aligned: pd.DataFrame) -> pd.DataFrame:
    """The aligned minutes as one-minute windows, the input `rollup` takes."""
    return aligned.assign(
        start_at=aligned["bar_at"],
        dollar_volume=(aligned["high"] + aligned["low"] + aligned["close"]) / 3 * aligned["volume"],
        bar_count=(~aligned["is_filled"]).astype("int64"),
        minute_count=1,
    )


def rollup(bars: pd.DataFrame, minutes: int) -> pd.DataFrame:
    """Windows of `minutes` from finer windows (start_at, OHLCV, dollar volume, counts),
    as the dbt macro does: 5m from the minutes, 15m from 5m, 60m from 15m."""
    width = pd.Timedelta(minutes=minutes)
    frame = bars.assign(
        window_start_at=bars["open_at"] + (bars["start_at"] - bars["open_at"]) // width * width
    )
    out = frame.groupby(
        ["ticker", "session_date", "window_start_at"], observed=True, sort=False
    ).agg(
        open_at=("open_at", "first"),
        close_at=("close_at", "first"),
        open=("open", "first"),
        high=("high", "max"),
        low=("low", "min"),
        close=("close", "last"),
        volume=("volume", "sum"),
        dollar_volume=("dollar_volume", "sum"),
        bar_count=("bar_count", "sum"),
        minute_count=("minute_count", "sum"),
    )
    out = out.reset_index()
    out["window_end_at"] = np.minimum(out["window_start_at"] + width, out["close_at"])
    out["vwap"] = out["dollar_volume"] / out["volume"].replace(0, np.nan)
    return out


def intraday_features(aligned: pd.DataFrame) -> pd.DataFrame:
    keys = [aligned["ticker"], aligned["session_date"]]
    by_session = aligned.groupby(keys, observed=True, sort=False)
    out = aligned[["ticker", "session_date", "bar_at", "close", "volume", "is_filled"]].copy()
    previous = by_session["close"].shift(1)
    out["return_1m"] = aligned["close"] / previous - 1
    log_return = np.log(aligned["close"] / previous)
    out["cumulative_volume"] = by_session["volume"].cumsum()
    dollars = (aligned["high"] + aligned["low"] + aligned["close"]) / 3 * aligned["volume"]
    out["session_vwap"] = dollars.groupby(keys, observed=True).cumsum() / out[
        "cumulative_volume"
    ].replace(0, np.nan)
    volatility = (
        log_return.groupby(keys, observed=True, sort=False).rolling(30, min_periods=30).std()
    )
    out["volatility_30m"] = volatility.reset_index(level=[0, 1], drop=True).sort_index()
    out["distance_from_vwap"] = out["close"] / out["session_vwap"] - 1
    return out


# -- the whole job ----------------------------------------------------------------------


def build(warehouse: str, output: str) -> tuple[dict[str, int], str]:
    """Read raw from `warehouse`, compute, write every output table to `output`."""
    with duckdb.connect(warehouse, read_only=True) as con:
        # Currency pairs (EURUSD=X) feed the FX rates, not the equity marts: the models
        # leave them out first thing (is_currency_pair), and so does this reference.
        raw_1d = con.sql("select * from raw_yfinance.bars_1d where ticker not like '%=X'").df()
        raw_1m = con.sql(
            "select ticker, ts, open, high, low, close, volume, adjusted_as_of, _dlt_load_id "
            "from raw_yfinance.bars_1m"
        ).df()
        tickers = con.sql(
            "select ticker from raw_yfinance.tickers where ticker not like '%=X'"
        ).df()
    raw_1d["ticker"] = raw_1d["ticker"].astype("category")
    raw_1d["trade_date"] = pd.to_datetime(raw_1d["trade_date"])
    raw_1m["ticker"] = raw_1m["ticker"].astype("category")
    features, reference = daily_features(raw_1d)
    outputs: dict[str, pd.DataFrame] = {"fct_price_features_daily": features}
    splits = recorded_splits(raw_1d)
    del raw_1d
    aligned = aligned_minutes(validated_minutes(raw_1m, tickers, splits))
    del raw_1m
    outputs["fct_bars_1m"] = aligned[
        ["ticker", "session_date", "bar_at", "open", "high", "low", "close", "volume", "is_filled"]
    ]
    windows = minute_windows(aligned)
    for minutes in ROLLUPS:  # each level from the one before, as the dbt macro does
        rolled = rollup(windows, minutes)
        outputs[f"fct_bars_{minutes}m"] = rolled.drop(columns=["open_at", "close_at"])
        windows = rolled.rename(columns={"window_start_at": "start_at"})
    outputs["fct_intraday_features"] = intraday_features(aligned)
    with duckdb.connect(output) as con:
        for name, frame in outputs.items():
            frame = frame.assign(ticker=frame["ticker"].astype(str))
            con.execute(f"create or replace table {name} as select * from frame")
    return {name: len(frame) for name, frame in outputs.items()}, reference


KEYS = {
    "fct_price_features_daily": ["ticker", "trade_date"],
    "fct_bars_1m": ["ticker", "bar_at"],
    "fct_intraday_features": ["ticker", "bar_at"],
    **{f"fct_bars_{m}m": ["ticker", "window_start_at"] for m in ROLLUPS},
}


def agreement(
    warehouse: str, output: str, tables: tuple[str, ...] | None = None
) -> dict[str, dict[str, Any]]:
    """Per output (`tables`, default all): rows here and in the mart, and the largest relative
    difference of each numeric column both have (nulls must match too)."""
    result: dict[str, dict[str, Any]] = {}
    with duckdb.connect(output) as con:
        con.execute(f"attach '{warehouse}' as warehouse (read_only)")
        marts = {  # tables and views (fct_bars_1m is a view)
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_catalog = 'warehouse' and table_schema = 'marts'"
            ).fetchall()
        }
        for table, key in KEYS.items():
            if table not in marts or (tables is not None and table not in tables):
                continue
            ours = {r[0]: r[1] for r in con.execute(f"describe {table}").fetchall()}
            theirs = {
                r[0]: r[1] for r in con.execute(f"describe warehouse.marts.{table}").fetchall()
            }
            numeric = [
                c
                for c in ours
                if c in theirs
                and c not in key
                and any(t in theirs[c] for t in ("DOUBLE", "INT", "DECIMAL"))
            ]
            join = " and ".join(f"p.{k} = m.{k}" for k in key)
            diffs = ", ".join(
                f"max(abs(p.{c} - m.{c}) / greatest(abs(m.{c}), 1e-9)) as {c}, "
                f"count(*) filter (where (p.{c} is null) != (m.{c} is null)) as {c}__nulls"
                for c in numeric
            )
            row = con.execute(
                f"select (select count(*) from {table}), "
                f"(select count(*) from warehouse.marts.{table}), count(*)"
                f"{', ' + diffs if diffs else ''} "
                f"from {table} p join warehouse.marts.{table} m on {join}"
            ).fetchone()
            assert row is not None  # an aggregate always returns a row
            values = dict(
                zip([f"{c}{s}" for c in numeric for s in ("", "__nulls")], row[3:], strict=True)
            )
            result[table] = {
                "rows_pandas": row[0],
                "rows_mart": row[1],
                "rows_matched": row[2],
                "max_relative_difference": max(
                    (v for k, v in values.items() if not k.endswith("__nulls") and v is not None),
                    default=None,
                ),
                "null_mismatches": sum(v for k, v in values.items() if k.endswith("__nulls")),
                "columns_compared": numeric,
            }
    return result
