"""The daily price features agree with an independent pandas implementation on the sample.

The reference below is written from the definitions (docs/features.md), not from the SQL:
pandas rolling windows, `ewm(adjust=False)` for the exact recursions (seeded with the mean of
the first n inputs, as the mart documents), rolling cov/var for beta. It reads the same input
the mart reads, the adjusted daily bars, so a difference is a difference in the maths.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd
import pytest

BENCHMARK = "SPY"
RELATIVE_TOLERANCE = 1e-6
# Both sides sometimes produce a value within rounding of zero (a flat day's return, MACD
# histogram at a crossing): there a relative error means nothing.
ABSOLUTE_FLOOR = 1e-12
FEATURES = [
    "return_1d", "log_return_1d", "return_5d", "return_21d",
    "sma_5", "sma_20", "sma_50", "sma_200",
    "ema_12", "ema_26", "macd", "macd_signal", "macd_hist", "rsi_14",
    "bb_middle_20", "bb_upper_20", "bb_lower_20", "bb_pct_b_20", "atr_14",
    "volatility_20d", "momentum_10", "roc_10", "drawdown",
    "high_52w", "low_52w", "pct_from_high_52w", "volume_zscore_20", "obv", "beta_60d",
]  # fmt: skip
INPUTS = ["close", "adj_close", "adj_high", "adj_low", "volume"]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def warehouse(sample_build) -> dict[str, str]:
    """The sample warehouse, built (the run's shared build: read only)."""
    return sample_build


@pytest.fixture(scope="module")
def mart(warehouse) -> pd.DataFrame:
    return frame(warehouse, "select * from marts.fct_price_features_daily")


@pytest.fixture(scope="module")
def reference(warehouse) -> pd.DataFrame:
    bars = frame(
        warehouse,
        "select ticker, trade_date, close, adj_close, adj_high, adj_low, volume, split_ratio "
        "from intermediate.int_bars_1d_adjusted",
    )
    return reference_features(bars)


def frame(env: dict[str, str], sql: str) -> pd.DataFrame:
    with duckdb.connect(env["WAREHOUSE_PATH"], read_only=True) as con:
        result = con.execute(sql).df()
    return result.sort_values(["ticker", "trade_date"]).reset_index(drop=True)


# --- the reference ---------------------------------------------------------------------------


def seeded_ewm(values: pd.Series, n: int, alpha: float) -> pd.Series:
    """y = alpha x + (1 - alpha) y_prev, first value the mean of the first n inputs (on the
    n-th one), NaN before; inputs that are NaN at the start (no previous close) are skipped."""
    valid = values.dropna()
    out = pd.Series(np.nan, index=values.index)
    if len(valid) < n:
        return out
    seeded = valid.iloc[n - 1 :].copy()
    seeded.iloc[0] = valid.iloc[:n].mean()
    out[seeded.index] = seeded.ewm(alpha=alpha, adjust=False).mean()
    return out


def per_ticker(bars: pd.DataFrame, column: str, f: Callable[[pd.Series], pd.Series]) -> pd.Series:
    return bars.groupby("ticker", sort=False)[column].transform(f)


def reference_features(bars: pd.DataFrame) -> pd.DataFrame:
    b = bars.copy()
    by_ticker = b.groupby("ticker", sort=False)
    p, high, low = b["adj_close"], b["adj_high"], b["adj_low"]
    # Volume in today's share units: times every later split ratio (a 2-for-1 doubles it).
    later_splits = b.groupby("ticker", sort=False)["split_ratio"].transform(
        lambda ratios: ratios[::-1].cumprod()[::-1].shift(-1).fillna(1.0)
    )
    volume = b["volume"].astype(float) * later_splits
    previous = by_ticker["adj_close"].shift(1)

    def lag(n: int) -> pd.Series:
        return by_ticker["adj_close"].shift(n)

    def rolling(column: pd.Series, n: int) -> pd.api.typing.RollingGroupby:
        return column.groupby(b["ticker"], sort=False).rolling(n, min_periods=n)

    def aligned(result: pd.Series) -> pd.Series:
        return result.reset_index(level=0, drop=True).sort_index()

    out = b[["ticker", "trade_date", *INPUTS]].copy()
    out["return_1d"] = p / previous - 1
    out["log_return_1d"] = np.log(p / previous)
    out["return_5d"] = p / lag(5) - 1
    out["return_21d"] = p / lag(21) - 1
    for n in (5, 20, 50, 200):
        out[f"sma_{n}"] = aligned(rolling(p, n).mean())

    b["change"] = p - previous
    b["gain"] = b["change"].clip(lower=0)
    b["loss"] = (-b["change"]).clip(lower=0)
    true_range = pd.concat(
        [high - low, (high - previous).abs(), (low - previous).abs()], axis=1
    ).max(axis=1)
    b["true_range"] = true_range.where(previous.notna())

    out["ema_12"] = per_ticker(b, "adj_close", lambda s: seeded_ewm(s, 12, 2 / 13))
    out["ema_26"] = per_ticker(b, "adj_close", lambda s: seeded_ewm(s, 26, 2 / 27))
    out["macd"] = out["ema_12"] - out["ema_26"]
    out["macd_signal"] = per_ticker(out, "macd", lambda s: seeded_ewm(s, 9, 2 / 10))
    out["macd_hist"] = out["macd"] - out["macd_signal"]
    average_gain = per_ticker(b, "gain", lambda s: seeded_ewm(s, 14, 1 / 14))
    average_loss = per_ticker(b, "loss", lambda s: seeded_ewm(s, 14, 1 / 14))
    out["rsi_14"] = 100 - 100 / (1 + average_gain / average_loss)
    out["atr_14"] = per_ticker(b, "true_range", lambda s: seeded_ewm(s, 14, 1 / 14))

    middle = out["sma_20"]
    spread = aligned(rolling(p, 20).std(ddof=0))
    out["bb_middle_20"] = middle
    out["bb_upper_20"] = middle + 2 * spread
    out["bb_lower_20"] = middle - 2 * spread
    out["bb_pct_b_20"] = (p - out["bb_lower_20"]) / (out["bb_upper_20"] - out["bb_lower_20"])

    out["volatility_20d"] = aligned(rolling(out["log_return_1d"], 20).std(ddof=1)) * np.sqrt(252)
    out["momentum_10"] = p - lag(10)
    out["roc_10"] = 100 * (p / lag(10) - 1)
    out["drawdown"] = p / by_ticker["adj_close"].cummax() - 1
    out["high_52w"] = aligned(rolling(high, 252).max())
    out["low_52w"] = aligned(rolling(low, 252).min())
    out["pct_from_high_52w"] = 100 * (p / out["high_52w"] - 1)
    out["volume_zscore_20"] = (volume - aligned(rolling(volume, 20).mean())) / aligned(
        rolling(volume, 20).std(ddof=0)
    )
    out["obv"] = (np.sign(b["change"]) * volume).fillna(0).groupby(b["ticker"]).cumsum()
    out["beta_60d"] = reference_beta(b.assign(return_1d=out["return_1d"], previous=previous))
    return out


def reference_beta(b: pd.DataFrame) -> pd.Series:
    """cov / var over the last 60 pairs whose two returns span the same two sessions."""
    b = b.assign(previous_date=b.groupby("ticker", sort=False)["trade_date"].shift(1))
    benchmark = b.loc[b["ticker"] == BENCHMARK, ["trade_date", "previous_date", "return_1d"]]
    pairs = (
        b.reset_index()
        .merge(benchmark, on=["trade_date", "previous_date"], suffixes=("", "_benchmark"))
        .dropna(subset=["return_1d", "return_1d_benchmark"])
        .sort_values(["ticker", "trade_date"])
    )
    beta = pd.Series(np.nan, index=b.index)
    for _, group in pairs.groupby("ticker"):
        x, y = group["return_1d_benchmark"], group["return_1d"]
        slope = x.rolling(60).cov(y) / x.rolling(60).var()
        beta[group["index"].to_numpy()] = slope.to_numpy()
    return beta


# --- the comparison --------------------------------------------------------------------------


def disagreements(mart: pd.DataFrame, reference: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows where the mart and the reference differ: null on one side only, or beyond
    RELATIVE_TOLERANCE (with ABSOLUTE_FLOOR for values within rounding of zero)."""
    ours = pd.to_numeric(mart[column], errors="coerce").astype(float)
    theirs = reference[column].astype(float).replace([np.inf, -np.inf], np.nan)
    both = ours.notna() & theirs.notna()
    scale = np.maximum(ours.abs(), theirs.abs())
    off = both & ((ours - theirs).abs() > RELATIVE_TOLERANCE * scale + ABSOLUTE_FLOOR)
    null_mismatch = ours.isna() != theirs.isna()
    bad = off | null_mismatch
    return mart.loc[bad, ["ticker", "trade_date"]].assign(ours=ours[bad], reference=theirs[bad])


def test_the_mart_has_one_row_per_clean_bar(mart, reference) -> None:
    assert len(mart) == len(reference) == 20 * 754 - 2
    assert (mart[["ticker", "trade_date"]] == reference[["ticker", "trade_date"]]).all().all()


def test_the_inputs_are_carried_as_they_are(mart, reference) -> None:
    for column in INPUTS:
        assert disagreements(mart, reference, column).empty, column


@pytest.mark.parametrize("column", FEATURES)
def test_feature_matches_the_reference(mart, reference, column) -> None:
    bad = disagreements(mart, reference, column)
    assert bad.empty, f"{column}: {len(bad)} rows differ, e.g.\n{bad.head(10)}"
    assert mart[column].notna().sum() > 0, f"{column} is never computed on the sample"


def test_the_benchmark_beta_is_exactly_one(mart) -> None:
    spy = mart.loc[(mart["ticker"] == BENCHMARK) & mart["beta_60d"].notna(), "beta_60d"]
    assert len(spy) > 600
    assert (spy == 1.0).all()


def test_adjusted_features_do_not_jump_on_split_days(mart) -> None:
    """NVDA 10:1, TSLA 3:1, AAPL 2:1: the close as traded falls, the adjusted one does not."""
    mart = mart.assign(traded_return=mart.groupby("ticker")["close"].pct_change())
    splits = mart[mart["traded_return"] < -0.45]
    assert set(splits["ticker"]) == {"NVDA", "TSLA", "AAPL"}
    assert (splits["return_1d"].abs() < 0.2).all()
    assert (splits["atr_14"] < 0.2 * splits["adj_close"]).all()
