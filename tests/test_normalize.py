"""Yahoo frames -> raw contract: names, types, UTC; in-response duplicates counted."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from ingest.yfinance import normalize

AS_OF = date(2026, 1, 5)  # the day of the request


def yahoo_frame(index: list[str], tz: str = "America/New_York", **overrides) -> pd.DataFrame:
    n = len(index)
    columns = {
        "Open": [10.0] * n,
        "High": [11.0] * n,
        "Low": [9.0] * n,
        "Close": [10.5] * n,
        "Adj Close": [10.4] * n,
        "Volume": [1000] * n,
        "Dividends": [0.0] * n,
        "Stock Splits": [0.0] * n,
    } | overrides
    return pd.DataFrame(columns, index=pd.DatetimeIndex(index, name="Datetime").tz_localize(tz))


def test_minute_bars_are_converted_to_utc() -> None:
    frame = yahoo_frame(["2025-07-01 09:30", "2025-12-01 09:30"])  # EDT, then EST
    table = normalize.bars_1m("SPY", frame, adjusted_as_of=AS_OF).table
    assert table.schema == normalize.BARS_1M_SCHEMA
    ts = table.column("ts").to_pylist()
    assert [t.hour for t in ts] == [13, 14]
    assert str(ts[0].tzinfo) == "UTC"


def test_repeated_timestamp_keeps_the_last_and_is_counted() -> None:
    frame = yahoo_frame(
        ["2025-12-01 09:30", "2025-12-01 09:31", "2025-12-01 09:31"], Close=[1.0, 2.0, 3.0]
    )
    batch = normalize.bars_1m("SPY", frame, adjusted_as_of=AS_OF)
    assert batch.rows_received == 3
    assert batch.duplicates_removed == 1
    assert batch.table.column("close").to_pylist() == [1.0, 3.0]


def test_daily_bars_keep_the_exchange_local_date_and_actions() -> None:
    frame = yahoo_frame(["2024-06-07", "2024-06-10"], **{"Stock Splits": [0.0, 10.0]})
    table = normalize.bars_1d("NVDA", frame, adjusted_as_of=AS_OF).table
    assert table.schema == normalize.BARS_1D_SCHEMA
    assert table.column("trade_date").to_pylist() == [date(2024, 6, 7), date(2024, 6, 10)]
    assert table.column("stock_splits").to_pylist() == [0.0, 10.0]
    assert table.column("adj_close").to_pylist() == [10.4, 10.4]


def test_missing_values_stay_null_for_dbt_to_judge() -> None:
    frame = yahoo_frame(["2025-12-01 09:30"], Close=[np.nan], Volume=[np.nan])
    table = normalize.bars_1m("SPY", frame, adjusted_as_of=AS_OF).table
    assert table.column("close").to_pylist() == [None]
    assert table.column("volume").to_pylist() == [None]
    assert table.column("volume").type == pa.int64()


def test_daily_frame_without_actions_defaults_to_no_action() -> None:
    frame = yahoo_frame(["2025-12-01"]).drop(columns=["Dividends", "Stock Splits", "Adj Close"])
    table = normalize.bars_1d("SPY", frame, adjusted_as_of=AS_OF).table
    assert table.column("dividends").to_pylist() == [0.0]
    assert table.column("stock_splits").to_pylist() == [0.0]
    assert table.column("adj_close").to_pylist() == [None]


def test_a_tz_naive_minute_index_is_refused() -> None:
    frame = pd.DataFrame({"Open": [1.0]}, index=pd.DatetimeIndex([datetime(2025, 1, 2, 9, 30)]))
    with pytest.raises(ValueError, match="tz-aware"):
        normalize.bars_1m("SPY", frame, adjusted_as_of=AS_OF)


def test_daily_bars_take_yf_download_naive_index_as_exchange_local_days() -> None:
    """yf.download strips the zone of daily bars (ignore_tz): Tokyo's midnight stays the date."""
    aware = yahoo_frame(["2023-03-30", "2023-03-31"], tz="Asia/Tokyo")
    naive = aware.tz_localize(None)
    for frame in (aware, naive):
        table = normalize.bars_1d("4063.T", frame, adjusted_as_of=AS_OF).table
        assert table.column("trade_date").to_pylist() == [date(2023, 3, 30), date(2023, 3, 31)]


def test_every_bar_carries_the_day_its_split_adjustment_is_as_of() -> None:
    daily = normalize.bars_1d("SPY", yahoo_frame(["2025-12-01"]), adjusted_as_of=AS_OF).table
    minute = normalize.bars_1m("SPY", yahoo_frame(["2025-12-01 09:30"]), adjusted_as_of=AS_OF)
    assert daily.column("adjusted_as_of").to_pylist() == [AS_OF]
    assert minute.table.column("adjusted_as_of").to_pylist() == [AS_OF]
    # Every new row has it; the column is nullable only so that dlt can add it to a
    # warehouse loaded before it existed (staging reads null as the day of the load).
    assert daily.column("adjusted_as_of").null_count == 0


def test_ticker_row_maps_yahoo_info_keys() -> None:
    info = {
        "longName": "Apple Inc.",
        "exchange": "NMS",
        "exchangeTimezoneName": "America/New_York",
        "currency": "USD",
        "quoteType": "EQUITY",
        "sector": "Technology",
        "industry": "Consumer Electronics",
    }
    assert normalize.ticker_row("AAPL", info) == {
        "ticker": "AAPL",
        "name": "Apple Inc.",
        "exchange": "NMS",
        "exchange_timezone": "America/New_York",
        "currency": "USD",
        "quote_type": "EQUITY",
        "sector": "Technology",
        "industry": "Consumer Electronics",
    }


@pytest.mark.parametrize("group_by_ticker", [True, False])
def test_multi_ticker_layouts_are_split_per_ticker(group_by_ticker: bool) -> None:
    spy = yahoo_frame(["2025-12-01", "2025-12-02"])
    new = yahoo_frame(["2025-12-02"], Close=[20.0])
    frame = pd.concat({"SPY": spy, "NEW": new}, axis=1, names=["Ticker", "Price"])
    if not group_by_ticker:  # yf.download's default: (Price, Ticker)
        frame = frame.swaplevel(axis=1).sort_index(axis=1)
    frames = normalize.split_multi_ticker(frame, ["SPY", "NEW", "NOPE"])
    assert len(frames["SPY"]) == 2
    assert list(frames["NEW"]["Close"]) == [20.0]  # the NaN row of 2025-12-01 is dropped
    assert frames["NOPE"].empty
    assert normalize.bars_1d("NEW", frames["NEW"], adjusted_as_of=AS_OF).table.num_rows == 1


def test_multi_ticker_keeps_a_row_without_prices_that_carries_an_action() -> None:
    # Real shape (SSNLF-1d-bad-div-fixed.csv, 2009-12-29): no prices, a dividend of 0.0977.
    # Ticker.history keeps such a row; the multi-ticker path must too, so raw holds the
    # dividend and dbt quarantines the row as missing_price with it, instead of losing it.
    spy = yahoo_frame(["2009-12-28", "2009-12-29", "2009-12-30"])
    otc = yahoo_frame(
        ["2009-12-28", "2009-12-29", "2009-12-30"],
        Open=[np.nan] * 3,
        High=[np.nan] * 3,
        Low=[np.nan] * 3,
        Close=[np.nan] * 3,
        **{"Adj Close": [np.nan] * 3, "Dividends": [0.0, 0.09771987, 0.0]},
    )
    frame = pd.concat({"SPY": spy, "SSNLF": otc}, axis=1, names=["Ticker", "Price"])
    frames = normalize.split_multi_ticker(frame, ["SPY", "SSNLF"])
    table = normalize.bars_1d("SSNLF", frames["SSNLF"], adjusted_as_of=AS_OF).table
    assert table.column("trade_date").to_pylist() == [date(2009, 12, 29)]
    assert table.column("dividends").to_pylist() == [pytest.approx(0.09771987)]
    assert table.column("close").to_pylist() == [None]
