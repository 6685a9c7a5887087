"""The brokerage dlt source: accounts and transactions, merged on their ids.

Merge, not append: a broker re-exports the same transactions in overlapping files,
and a corrected row (same id) must replace the earlier one, never double it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dlt
import pyarrow as pa


@dlt.source(name="brokerage", max_table_nesting=0)
def brokerage(accounts: Iterable[pa.Table], transactions: Iterable[pa.Table]) -> Any:
    """Accounts and transactions from arrow batches in the raw contract's shape."""
    return (
        dlt.resource(
            accounts, name="accounts", primary_key="account_id", write_disposition="merge"
        ),
        dlt.resource(
            transactions,
            name="transactions",
            primary_key="transaction_id",
            write_disposition="merge",
        ),
    )
