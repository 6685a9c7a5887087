"""The brokerage tables as dlt resources: accounts and transactions, merged on their ids.

Merge, not append: a broker re-exports the same transactions in overlapping files,
and a corrected row (same id) must replace the earlier one, never double it. Every
entry point (CSV inbox, REST API, typed arrow batches) declares its resources with
these hints, so they all land in the same raw_brokerage tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dlt
import pyarrow as pa

from ingest.brokerage.records import widen

ACCOUNTS_HINTS: dict[str, Any] = {
    "name": "accounts",
    "primary_key": "account_id",
    "write_disposition": "merge",
}
TRANSACTIONS_HINTS: dict[str, Any] = {
    "name": "transactions",
    "primary_key": "transaction_id",
    "write_disposition": "merge",
}


@dlt.source(name="brokerage", max_table_nesting=0)
def brokerage(accounts: Iterable[pa.Table], transactions: Iterable[pa.Table]) -> Any:
    """Accounts and transactions from arrow batches in the raw contract's shape."""
    return (
        dlt.resource((widen("accounts", t) for t in accounts), **ACCOUNTS_HINTS),
        dlt.resource((widen("transactions", t) for t in transactions), **TRANSACTIONS_HINTS),
    )
