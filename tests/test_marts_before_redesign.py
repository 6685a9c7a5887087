"""Issue 15's redesign changed no number: the marts it rewrote equal what the former models
built from the same raw data.

The redesign (f4c7c58 and after: epoch arithmetic, one window pass, views instead of copies,
range-delete increments, the incremental daily features) rewrote the models behind six marts.
tests/data/marts_before_issue15.json holds a digest of those six marts as the former models
built them: the project at 2dbd433 (the last commit before f4c7c58, with
dbt_project/macros/session_incremental.sql restored from 964aa39^, which had dropped it by
mistake), run on the raw data of `python -m ingest sample --as-of 2026-11-20` (the test
sample) with `dbt build --resource-type model seed --select +<each mart>`, digested by
`python -m tests.test_marts_before_redesign WAREHOUSE > tests/data/marts_before_issue15.json`.

The digest, per mart and ticker: the row count, and for every column the number of nulls,
the sum and the sum of squares (exact integers for instants, dates, integers and text by its
hash; doubles for prices and features), so a changed, added, dropped or shifted row moves
it. Currency pairs (`=X`) are left out: the former models treated EURUSD=X as a stock,
which the FX work (issue 14) ended on purpose.
Compared on the run's shared sample build, which loads the same raw data: counts exact,
sums to a relative 1e-9 (the former and current SQL sum the same floats in other orders:
4.6e-16 at most, row for row, when this file was made).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import duckdb
import pytest

from tests.pipeline import REPO

BEFORE = REPO / "tests/data/marts_before_issue15.json"
MARTS = [
    "fct_bars_1m",
    "fct_intraday_features",
    "fct_bars_5m",
    "fct_bars_15m",
    "fct_bars_60m",
    "fct_price_features_daily",
]

pytestmark = pytest.mark.e2e


def _column_terms(name: str, data_type: str) -> str:
    """SQL for a column's nulls, sum and sum of squares: exact integers for timestamps (epoch
    seconds from 2020), dates (days from 2020), integers and text (its hash), doubles for
    the rest (a float's last bits depend on the order of a sum)."""
    column = f'"{name}"'
    if data_type.startswith("TIMESTAMP"):
        value = f"cast(cast(epoch({column}) as bigint) - 1577836800 as hugeint)"
    elif data_type == "DATE":
        value = f"cast(date_diff('day', date '2020-01-01', {column}) as hugeint)"
    elif data_type in ("VARCHAR", "BOOLEAN"):
        value = f"cast(hash({column}) % 1000003 as hugeint)"
    elif data_type in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"):
        value = f"cast({column} as hugeint)"
    else:
        value = f"cast({column} as double)"
    return f"count(*) filter (where {column} is null), sum({value}), sum({value} * {value})"


def digest(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """{mart: {"columns": [...], "tickers": {ticker: [rows, [nulls, sum, sumsq] per column]}}}"""
    found: dict[str, Any] = {}
    for mart in MARTS:
        columns = con.execute(f"describe marts.{mart}").fetchall()
        terms = ", ".join(_column_terms(name, str(kind)) for name, kind, *_ in columns)
        rows = con.execute(
            f"select ticker, count(*), {terms} from marts.{mart} "
            "where ticker not like '%=X' group by ticker order by ticker"
        ).fetchall()
        found[mart] = {
            "columns": [name for name, *_ in columns],
            "tickers": {
                row[0]: [row[1], [list(row[2 + 3 * i : 5 + 3 * i]) for i in range(len(columns))]]
                for row in rows
            },
        }
    return found


def _close(before: float | None, now: float | None) -> bool:
    """Integers (counts, instants, dates, hashes) exactly; doubles to a relative 1e-9."""
    if isinstance(before, int) and isinstance(now, int):
        return before == now
    if before is None or now is None:
        return before is None and now is None
    return math.isclose(before, now, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def now(sample_build) -> dict[str, Any]:
    with duckdb.connect(sample_build["WAREHOUSE_PATH"], read_only=True) as con:
        return digest(con)


@pytest.mark.parametrize("mart", MARTS)
def test_the_mart_equals_what_the_former_models_built(now, mart) -> None:
    before = json.loads(BEFORE.read_text())[mart]
    assert now[mart]["columns"] == before["columns"], "the mart's columns changed"
    assert now[mart]["tickers"].keys() == before["tickers"].keys()
    differences = []
    for ticker, (rows_before, columns_before) in before["tickers"].items():
        rows_now, columns_now = now[mart]["tickers"][ticker]
        if rows_now != rows_before:
            differences.append(f"{ticker}: {rows_now} rows, {rows_before} before")
            continue
        for name, b, n in zip(before["columns"], columns_before, columns_now, strict=True):
            if b[0] != n[0] or not (_close(b[1], n[1]) and _close(b[2], n[2])):
                differences.append(f"{ticker}.{name}: {n} now, {b} before")
    assert not differences, differences[:10]
    assert sum(rows for rows, _ in before["tickers"].values()) > 1000


if __name__ == "__main__":  # the digest of a built warehouse, as JSON on stdout
    with duckdb.connect(sys.argv[1], read_only=True) as con:
        json.dump(digest(con), sys.stdout, indent=0)
        print()
    sys.exit(0)
