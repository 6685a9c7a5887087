"""The minute outputs in polars' lazy API: fct_intraday_features and fct_bars_5m (with
fct_bars_1m on the way), what issue 15 compares the project's SQL with.

Same rules as bench/pandas_reference.py (the latest load of each bar, as traded, the
quarantine's defects, New York sessions, the grid from the first trade to the close,
forward fill inside a session, running VWAP, 30-minute volatility, 5-minute windows from
the session open), written as one lazy query that polars plans and runs on all cores. The
outputs are written to a DuckDB file as dbt writes tables, and `pandas_reference.agreement`
checks them against the marts, so the comparison is between equal results.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from bench.pandas_reference import agreement as _agreement
from ingest import calendar

NEW_YORK = "America/New_York"
OUTPUTS = ("fct_bars_1m", "fct_intraday_features", "fct_bars_5m")


def _raw(warehouse: str) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    with duckdb.connect(warehouse, read_only=True) as con:
        minutes = con.sql(
            "select ticker, ts, open, high, low, close, volume, adjusted_as_of, "
            "cast(_dlt_load_id as double) as loaded_at, _dlt_load_id as load_id "
            "from raw_yfinance.bars_1m"
        ).pl()
        splits = con.sql(
            "select ticker, trade_date as ex_date, stock_splits as ratio from ("
            "  select *, row_number() over (partition by ticker, trade_date"
            "    order by cast(_dlt_load_id as double) desc, _dlt_load_id desc) as version"
            "  from raw_yfinance.bars_1d where ticker not like '%=X')"  # FX: not equities
            "where version = 1 and stock_splits > 0 and stock_splits != 1"
        ).pl()
        tickers = con.sql(
            "select distinct ticker from raw_yfinance.tickers where ticker not like '%=X'"
        ).pl()
    utc = pl.col("ts").dt.cast_time_unit("us").dt.convert_time_zone("UTC")
    return minutes.lazy().with_columns(utc), splits.lazy(), tickers.lazy()


def _sessions(first: datetime, last: datetime) -> pl.LazyFrame:
    sessions = calendar.sessions(first.date(), last.date())
    return (
        pl.DataFrame(
            {
                "session_date": sessions["session_date"].tolist(),
                "open_at": sessions["open_at"].dt.tz_convert("UTC").tolist(),
                "close_at": sessions["close_at"].dt.tz_convert("UTC").tolist(),
            }
        )
        .lazy()
        .with_columns(
            pl.col("session_date").cast(pl.Date),
            pl.col("open_at").dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
            pl.col("close_at").dt.cast_time_unit("us").dt.convert_time_zone("UTC"),
        )
    )


def validated(
    minutes: pl.LazyFrame, splits: pl.LazyFrame, tickers: pl.LazyFrame, sessions: pl.LazyFrame
) -> pl.LazyFrame:
    """Clean minute bars, as traded, in their New York session."""
    latest = minutes.sort("ticker", "ts", "loaded_at", "load_id").unique(
        ["ticker", "ts"], keep="last", maintain_order=False
    )
    bars = latest.with_columns(
        session_date=pl.col("ts").dt.convert_time_zone(NEW_YORK).dt.date(),
        as_of=pl.coalesce(
            "adjusted_as_of", pl.from_epoch(pl.col("loaded_at").cast(pl.Int64)).dt.date()
        ),
    )
    # The splits after the bar's day up to its request day, as a factor (few splits: a join).
    factors = (
        bars.select("ticker", "session_date", "as_of")
        .unique()
        .join(splits, on="ticker")
        .filter(
            (pl.col("session_date") < pl.col("ex_date")) & (pl.col("as_of") >= pl.col("ex_date"))
        )
        .group_by("ticker", "session_date", "as_of")
        .agg(factor=pl.col("ratio").product())
    )
    bars = bars.join(factors, on=["ticker", "session_date", "as_of"], how="left").with_columns(
        pl.col("factor").fill_null(1.0)
    )
    bars = bars.with_columns(
        *(pl.col(c) * pl.col("factor") for c in ("open", "high", "low", "close")),
        volume=(pl.col("volume") / pl.col("factor")).round(0).cast(pl.Int64),
    ).join(sessions, on="session_date", how="left")
    known = bars.join(tickers, on="ticker", how="semi")
    defect = (
        pl.any_horizontal(pl.col(c).is_null() for c in ("open", "high", "low", "close"))
        | (pl.min_horizontal("open", "high", "low", "close") <= 0)
        | (pl.col("high") < pl.col("low"))
        | ~pl.col("open").is_between("low", "high")
        | ~pl.col("close").is_between("low", "high")
        | (pl.col("volume") < 0)
        | (pl.col("ts") > pl.lit(datetime.now(UTC)))
        | pl.col("open_at").is_null()
        | (pl.col("ts") < pl.col("open_at"))
        | (pl.col("ts") >= pl.col("close_at"))
        | (pl.col("ts").dt.truncate("1m") != pl.col("ts"))
    )
    return known.filter(~defect.fill_null(True))


def aligned(clean: pl.LazyFrame) -> pl.LazyFrame:
    """Every minute from a session's first trade to its close, gaps forward-filled."""
    grid = (
        clean.group_by("ticker", "session_date")
        .agg(
            first_trade_at=pl.col("ts").min(),
            open_at=pl.col("open_at").first(),
            close_at=pl.col("close_at").first(),
        )
        .with_columns(
            bar_at=pl.datetime_ranges(
                "first_trade_at", pl.col("close_at") - pl.duration(minutes=1), "1m"
            )
        )
        .explode("bar_at")
        .drop("first_trade_at")
    )
    trades = clean.select(
        "ticker", pl.col("ts").alias("bar_at"), "open", "high", "low", "close", "volume"
    )
    joined = grid.join(trades, on=["ticker", "bar_at"], how="left").sort("ticker", "bar_at")
    last_close = pl.col("close").forward_fill().over("ticker", "session_date")
    return joined.with_columns(
        is_filled=pl.col("close").is_null(),
        **{c: pl.col(c).fill_null(last_close) for c in ("open", "high", "low", "close")},
        volume=pl.col("volume").fill_null(0),
    )


def intraday_features(minutes: pl.LazyFrame) -> pl.LazyFrame:
    session = ("ticker", "session_date")
    previous = pl.col("close").shift(1).over(session)
    typical = (pl.col("high") + pl.col("low") + pl.col("close")) / 3
    cumulative_volume = pl.col("volume").cum_sum().over(session)
    vwap = (typical * pl.col("volume")).cum_sum().over(session) / pl.when(
        cumulative_volume != 0
    ).then(cumulative_volume)
    log_return = (pl.col("close") / previous).log()
    return minutes.select(
        "ticker",
        "session_date",
        "bar_at",
        "close",
        "volume",
        "is_filled",
        cumulative_volume.alias("cumulative_volume"),
        vwap.alias("session_vwap"),
        (pl.col("close") / previous - 1).alias("return_1m"),
        log_return.rolling_std(30, min_samples=30).over(session).alias("volatility_30m"),
        (pl.col("close") / vwap - 1).alias("distance_from_vwap"),
    )


def bars_5m(minutes: pl.LazyFrame) -> pl.LazyFrame:
    width = 5 * 60_000_000  # microseconds
    index = (pl.col("bar_at").dt.epoch("us") - pl.col("open_at").dt.epoch("us")) // width
    windows = (
        minutes.with_columns(
            window=index,
            dollar_volume=(pl.col("high") + pl.col("low") + pl.col("close")) / 3 * pl.col("volume"),
        )
        .group_by("ticker", "session_date", "window")
        .agg(
            open_at=pl.col("open_at").first(),
            close_at=pl.col("close_at").first(),
            open=pl.col("open").sort_by("bar_at").first(),
            high=pl.col("high").max(),
            low=pl.col("low").min(),
            close=pl.col("close").sort_by("bar_at").last(),
            volume=pl.col("volume").sum(),
            dollar_volume=pl.col("dollar_volume").sum(),
            bar_count=(~pl.col("is_filled")).sum().cast(pl.Int64),
            minute_count=pl.len().cast(pl.Int64),
        )
    )
    start = pl.col("open_at") + pl.duration(minutes=pl.col("window") * 5)
    return windows.select(
        "ticker",
        "session_date",
        start.alias("window_start_at"),
        pl.min_horizontal(start + pl.duration(minutes=5), "close_at").alias("window_end_at"),
        "open",
        "high",
        "low",
        "close",
        "volume",
        "dollar_volume",
        (pl.col("dollar_volume") / pl.when(pl.col("volume") != 0).then(pl.col("volume"))).alias(
            "vwap"
        ),
        "bar_count",
        "minute_count",
    )


def build(warehouse: str, output: str) -> dict[str, int]:
    """Read raw from `warehouse`, compute the minute outputs, write them to `output`."""
    minutes, splits, tickers = _raw(warehouse)
    span = minutes.select(first=pl.col("ts").min(), last=pl.col("ts").max()).collect()
    first, last = (span.item(0, i).astimezone(UTC) for i in range(2))
    sessions = _sessions(first, last)
    grid = aligned(validated(minutes, splits, tickers, sessions))
    plans = {
        "fct_bars_1m": grid.select(
            "ticker",
            "session_date",
            "bar_at",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "is_filled",
        ),
        "fct_intraday_features": intraday_features(grid),
        "fct_bars_5m": bars_5m(grid),
    }
    frames = dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))
    with duckdb.connect(output) as con:
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"create or replace table {name} as select * from frame")
            con.unregister("frame")
    return {name: frame.height for name, frame in frames.items()}


def agreement(warehouse: str, output: str) -> dict[str, dict]:
    """Rows and largest relative differences against the marts (as for pandas)."""
    return _agreement(warehouse, output, OUTPUTS)
