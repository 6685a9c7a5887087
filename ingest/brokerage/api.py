"""The broker's REST API (shape: docs/brokerage.md), loaded with dlt's rest_api source.

- Pagination: the response's `next_cursor` goes back as `cursor` until it is null.
- Auth: a bearer token from dlt secrets (`[sources.brokerage_api] token` in
  .dlt/secrets.toml, or SOURCES__BROKERAGE_API__TOKEN); never from code, never logged.
- Incremental: the cursor is the broker's booking `sequence`, sent as `after_sequence`
  and kept in dlt state. Not `executed_at`: one future-dated transaction (a real broker
  fault, and one of the sample's defects) would push an executed_at cursor past every
  later booking, and dlt would then drop them as "already seen". A booking sequence
  only grows, so a late-booked trade with an old executed_at still arrives.
- Retries: every HTTP request goes through the project's RetryPolicy (429 and 5xx are
  retried with backoff; a bad token or an unreachable host fails at once).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import dlt
import pyarrow as pa
import requests
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator
from dlt.sources.rest_api import rest_api_resources

from ingest.audit import RunReport
from ingest.brokerage.records import KEYS, Delivered, keep_last_version, parse_record, raw_table
from ingest.brokerage.source import ACCOUNTS_HINTS, TRANSACTIONS_HINTS
from ingest.retry import RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 500
REQUEST_TIMEOUT_S = 30


class RetryingSession(requests.Session):
    """A requests session that sends every request under the project's RetryPolicy.

    dlt's RESTClient raises for HTTP errors in a response hook, inside `send`, so a 429
    or 500 reaches the policy as an HTTPError with its status code.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__()
        self.policy = policy

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        kwargs["timeout"] = kwargs.get("timeout") or REQUEST_TIMEOUT_S
        what = f"{request.method} {urlsplit(request.url or '').path}"
        parent = super()
        return self.policy.call(lambda: parent.send(request, **kwargs), what=what)


def _page_to_table(page: list[dict[str, Any]], kind: str, report: RunReport) -> Iterator[pa.Table]:
    """One API page -> one arrow table in the raw shape."""
    key = KEYS[kind]
    delivered, keyless = [], 0
    for item in page:
        row = parse_record(kind, item)
        if row[key] is None:
            keyless += 1
            continue
        delivered.append(Delivered(row, export="api"))
    if keyless:
        report.fail(kind, f"{keyless} item(s) without {key} skipped")
    result = keep_last_version(kind, delivered)
    instants = [d.row["executed_at"] for d in delivered if d.row.get("executed_at")]
    report.received(
        kind, len(delivered), result.duplicates_removed, min(instants, default=None),
        max(instants, default=None),
    )  # fmt: skip
    if result.rows:
        yield raw_table(kind, result.rows)


@dlt.source(name="brokerage", section="brokerage_api", max_table_nesting=0)
def brokerage_api(
    report: RunReport,
    retry: RetryPolicy,
    base_url: str = dlt.config.value,
    token: str = dlt.secrets.value,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Any:
    """Accounts and transactions from the broker's REST API at `base_url`."""
    pages = rest_api_resources(
        {
            "client": {
                "base_url": base_url.rstrip("/") + "/",
                "auth": BearerTokenAuth(token=token),
                "session": RetryingSession(retry),
                "paginator": JSONResponseCursorPaginator(
                    cursor_path="next_cursor", cursor_param="cursor"
                ),
            },
            "resource_defaults": {"endpoint": {"params": {"limit": page_size}}},
            "resources": [
                {
                    "name": "account_pages",
                    "primary_key": "account_id",
                    "endpoint": {"path": "v1/accounts", "data_selector": "accounts"},
                },
                {
                    "name": "transaction_pages",
                    "primary_key": "transaction_id",
                    "endpoint": {
                        "path": "v1/transactions",
                        "data_selector": "transactions",
                        "incremental": {
                            "start_param": "after_sequence",
                            "cursor_path": "sequence",
                            "initial_value": 0,
                        },
                    },
                },
            ],
        }
    )
    by_name = {resource.name: resource for resource in pages}
    return (
        dlt.transformer(_page_to_table, data_from=by_name["account_pages"], **ACCOUNTS_HINTS)(
            "accounts", report
        ),
        dlt.transformer(
            _page_to_table, data_from=by_name["transaction_pages"], **TRANSACTIONS_HINTS
        )("transactions", report),
    )
