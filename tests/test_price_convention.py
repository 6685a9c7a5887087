"""One price convention, whatever the order of the loads (docs/architecture.md, "Prices").

Yahoo answers with prices, volume and dividends split-adjusted as of the day of the request.
On a real recorded frame with a real split (Shin-Etsu, 4063.T, 5:1 on 2023-03-30, as
yfinance repairs it) and one with dividends (CALM), three ways of loading the same history
through the replay seam must give the same marts:

- one shot, requested after the split;
- day by day across the split (each load requested on its own last day, so bars before the
  split arrive unadjusted first and adjusted again in the overlap of the next load);
- the recent part first, then a backfill of the old part requested after the split.

The expected numbers come from the recording itself (Yahoo's own Adj Close and the split
ratio), never from the models.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.pipeline import dbt, ingest, query, warehouse_env

pytestmark = pytest.mark.e2e

DATA = Path(__file__).parent / "data"
RECORDINGS = {  # Yahoo symbol -> recorded frame (tests/data/yfinance)
    "4063.T": "4063-T-1d-bad-stock-split-fixed.csv",
    "CALM": "CALM-1d-no-bad-divs.csv",
}
SPLIT_DAY, RATIO = "2023-03-30", 5.0
LAST_DAY = "2023-04-14"  # the last bar of the Shin-Etsu recording
MODELS = ["--select", "+fct_prices_daily", "+fct_price_features_daily"]
COMPARED = {
    "marts.fct_prices_daily": "ticker, trade_date, open, high, low, close, adj_close, volume, "
    "dividend_per_share, split_ratio",
    "marts.fct_price_features_daily": "ticker, trade_date, return_1d, sma_20, rsi_14, obv",
}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("recordings")
    for symbol, name in RECORDINGS.items():
        shutil.copy(DATA / "yfinance" / name, folder / f"{symbol}.csv")
        shutil.copy(DATA / "yfinance_replay" / f"{symbol}.info.json", folder)
    return folder


def recorded(symbol: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / "yfinance" / RECORDINGS[symbol])
    frame["trade_date"] = frame.iloc[:, 0].str[:10]
    return frame.set_index("trade_date").sort_index()


def load(tmp_path: Path, name: str, recordings: Path, *runs: list[str]) -> dict[str, str]:
    env = warehouse_env(tmp_path / name)
    for args in runs:
        ingest(env, "yfinance", "--replay", str(recordings), "--intervals", "1d", *args)
    dbt(env, "build", *MODELS, "--resource-type", "seed", "--resource-type", "model")
    return env


def marts(env: dict[str, str]) -> dict[str, list[tuple]]:
    return {
        table: query(
            env,
            f"select {columns} from {table} where trade_date <= '{LAST_DAY}' order by all",
        )
        for table, columns in COMPARED.items()
    }


def assert_same(left: dict[str, list[tuple]], right: dict[str, list[tuple]], what: str) -> None:
    for table, rows in left.items():
        other = right[table]
        assert len(rows) == len(other), f"{what}: {table} has {len(other)} rows, not {len(rows)}"
        for a, b in zip(rows, other, strict=True):
            for x, y in zip(a, b, strict=True):
                if isinstance(x, float) and isinstance(y, float):
                    assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), f"{what}: {a} != {b}"
                else:
                    assert x == y, f"{what}: {table} {a} != {b}"


@pytest.fixture(scope="module")
def one_shot(tmp_path_factory, recordings) -> dict[str, str]:
    return load(tmp_path_factory.mktemp("one_shot"), "w", recordings, ["--end", LAST_DAY])


def test_day_by_day_across_the_split_equals_one_shot(tmp_path, recordings, one_shot) -> None:
    days = ["2023-03-24", "2023-03-29", SPLIT_DAY, "2023-04-03", LAST_DAY]
    first = ["--start", "2022-01-03", "--end", days[0]]
    env = load(tmp_path, "daily", recordings, first, *(["--end", day] for day in days[1:]))
    # The overlap re-fetched bars before the split after it: raw holds both request days.
    as_of = query(
        env,
        "select min(adjusted_as_of), max(adjusted_as_of) from raw_yfinance.bars_1d "
        f"where ticker = '4063.T' and trade_date < '{SPLIT_DAY}'",
    )[0]
    assert str(as_of[0]) < SPLIT_DAY <= str(as_of[1])
    assert_same(marts(one_shot), marts(env), "day by day")


def test_backfill_after_the_split_equals_one_shot(tmp_path, recordings, one_shot) -> None:
    recent = ["--start", "2023-03-31", "--end", LAST_DAY]
    backfill = ["--start", "2022-01-03", "--end", "2023-03-30", "--as-of", LAST_DAY]
    env = load(tmp_path, "backfill", recordings, recent, backfill)
    assert_same(marts(one_shot), marts(env), "late backfill")


def test_split_applied_once(one_shot) -> None:
    frame = recorded("4063.T")
    rows = query(
        one_shot,
        "select cast(trade_date as varchar), close, volume, adj_close from marts.fct_prices_daily "
        "where ticker = '4063.T' order by trade_date",
    )
    prices = {day: (close, volume, adj) for day, close, volume, adj in rows}
    # As traded: Yahoo's (split-adjusted) close and volume of the day before, times the ratio.
    before = frame.loc["2023-03-29"]
    assert prices["2023-03-29"][0] == pytest.approx(before["Close"] * RATIO, rel=1e-12)
    assert prices["2023-03-29"][1] == round(before["Volume"] / RATIO)
    assert prices[SPLIT_DAY][0] == pytest.approx(frame.loc[SPLIT_DAY, "Close"], rel=1e-12)
    # Adjusted: Yahoo's own Adj Close, within float32 rounding of the recording.
    for day, (_, _, adj_close) in prices.items():
        assert adj_close == pytest.approx(frame.loc[day, "Adj Close"], rel=1e-6), day
    returns = dict(
        query(
            one_shot,
            "select cast(trade_date as varchar), return_1d from marts.fct_price_features_daily "
            "where ticker = '4063.T'",
        )
    )
    yahoo_return = frame.loc[SPLIT_DAY, "Adj Close"] / frame.loc["2023-03-29", "Adj Close"] - 1
    assert returns[SPLIT_DAY] == pytest.approx(yahoo_return, abs=1e-6)
    assert abs(returns[SPLIT_DAY]) < 0.05  # not +401 %: the split is applied once


def test_adjusted_close_matches_yahoo_on_a_clean_frame(one_shot) -> None:
    frame = recorded("CALM")
    rows = query(
        one_shot,
        "select cast(trade_date as varchar), adj_close from intermediate.int_bars_1d_adjusted "
        "where ticker = 'CALM'",
    )
    assert len(rows) > 300
    # Yahoo's Adj Close as of the request day (the replay's default: the last recorded day,
    # LAST_DAY is the last of the other recording; CALM's own later dividends are out).
    as_of = frame.loc[:LAST_DAY]
    multiplier = as_of["Adj Close"] / as_of["Close"]
    yahoo = as_of["Close"] * multiplier / multiplier.iloc[-1]
    worst = max(abs(adj / yahoo[day] - 1) for day, adj in rows)
    assert worst < 1e-6
