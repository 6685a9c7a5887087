"""Seeded brokerage accounts and transactions that trade the sample market.

Trades happen at prices inside that session's low-high range and at instants inside
the session; holdings never go short; dividends and splits follow the market data's
actions. With `defects`, a few rows carry the faults real broker exports have
(`TRANSACTION_DEFECTS`), so the dbt quarantine and anomaly checks have work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa

from ingest.sample.market import SampleMarket, _seed_for

CENT = Decimal("0.01")

ACCOUNTS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        ("account_name", pa.string()),
        ("base_currency", pa.string()),
        ("opened_at", pa.timestamp("us", tz="UTC")),
    ]
)

TRANSACTIONS_SCHEMA = pa.schema(
    [
        pa.field("transaction_id", pa.string(), nullable=False),
        ("account_id", pa.string()),
        ("executed_at", pa.timestamp("us", tz="UTC")),
        ("ticker", pa.string()),
        ("action", pa.string()),
        ("quantity", pa.decimal128(18, 6)),
        ("price", pa.decimal128(18, 6)),
        ("fees", pa.decimal128(18, 4)),
        ("amount", pa.decimal128(18, 4)),
        ("currency", pa.string()),
    ]
)

TRANSACTION_DEFECTS = (
    "unknown_action",
    "non_positive_quantity",
    "future_timestamp",
    "unknown_ticker",
    "currency_mismatch",
    "oversell",
    "probable_duplicate",
    "price_outside_range",
    "outside_session",
    "split_disagrees",
)


@dataclass(frozen=True)
class SampleAccount:
    account_id: str
    account_name: str
    base_currency: str
    initial_deposit: Decimal
    universe: tuple[str, ...]


SAMPLE_ACCOUNTS = (
    SampleAccount(
        "ACC-1001",
        "Individual brokerage",
        "USD",
        Decimal("100000"),
        ("AAPL", "MSFT", "NVDA", "JPM", "KO", "SPY", "TSLA", "XOM"),
    ),
    SampleAccount(
        "ACC-1002", "Roth IRA", "USD", Decimal("40000"), ("SPY", "QQQ", "IWM", "XLV", "JNJ", "PG")
    ),
    SampleAccount("ACC-2001", "EU brokerage", "EUR", Decimal("20000"), ("SPY",)),
)


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


class _Ledger:
    """Builds rows while tracking cash and holdings so the sample never goes short."""

    def __init__(self, account: SampleAccount) -> None:
        self.account = account
        self.cash = Decimal(0)
        self.holdings: dict[str, Decimal] = {}
        self.rows: list[dict[str, object]] = []

    def add(
        self,
        executed_at: datetime,
        action: str,
        *,
        ticker: str | None = None,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        fees: Decimal = Decimal(0),
        amount: Decimal,
        currency: str | None = None,
    ) -> None:
        self.rows.append(
            {
                "transaction_id": f"{self.account.account_id}-{len(self.rows) + 1:05d}",
                "account_id": self.account.account_id,
                "executed_at": executed_at,
                "ticker": ticker,
                "action": action,
                "quantity": quantity,
                "price": price,
                "fees": fees,
                "amount": amount,
                "currency": currency or self.account.base_currency,
            }
        )


def generate_brokerage(market: SampleMarket) -> tuple[pa.Table, pa.Table]:
    """(accounts, transactions) arrow tables in the raw contract's shape."""
    sessions = market.daily_sessions
    daily = {
        t: market.history(
            t,
            start=sessions.session_date.iloc[0],
            end=market.as_of + timedelta(days=1),
            interval="1d",
        )
        for t in {t for a in SAMPLE_ACCOUNTS for t in a.universe}
    }
    accounts, transactions = [], []
    for account in SAMPLE_ACCOUNTS:
        opened_at = sessions.open_at.iloc[0].to_pydatetime() - timedelta(days=3)
        accounts.append(
            {
                "account_id": account.account_id,
                "account_name": account.account_name,
                "base_currency": account.base_currency,
                "opened_at": opened_at,
            }
        )
        transactions.extend(_account_transactions(market, account, daily))
    if market.defects:
        transactions.extend(_defects(market, daily, transactions))
    return (
        pa.Table.from_pylist(accounts, schema=ACCOUNTS_SCHEMA),
        pa.Table.from_pylist(transactions, schema=TRANSACTIONS_SCHEMA),
    )


def _instant_in_session(rng: np.random.Generator, session: pd.Series) -> datetime:
    minutes = int((session.close_at - session.open_at).total_seconds() // 60)
    offset = timedelta(minutes=int(rng.integers(1, minutes - 1)), seconds=int(rng.integers(0, 60)))
    return (session.open_at + offset).to_pydatetime().astimezone(UTC)


def _account_transactions(
    market: SampleMarket, account: SampleAccount, daily: dict[str, pd.DataFrame]
) -> list[dict[str, object]]:
    rng = _seed_for(market.seed, account.account_id, "transactions")
    ledger = _Ledger(account)
    sessions = market.daily_sessions
    foreign = account.base_currency != "USD"  # trades in USD are out of scope (no FX yet)
    pending_dividends: list[tuple[int, str, Decimal, Decimal]] = []
    for i, session in enumerate(sessions.itertuples()):
        if i == 0 or (i % 21 == 0 and not foreign):
            amount = account.initial_deposit if i == 0 else Decimal(2000)
            ledger.cash += amount
            ledger.add(_instant_in_session(rng, session), "deposit", amount=amount)
        for ticker in list(ledger.holdings):
            bar = daily[ticker].iloc[i]
            if bar["Stock Splits"] > 0 and ledger.holdings[ticker] > 0:
                received = ledger.holdings[ticker] * (Decimal(str(bar["Stock Splits"])) - 1)
                ledger.holdings[ticker] += received
                ledger.add(
                    session.open_at.to_pydatetime(),
                    "split",
                    ticker=ticker,
                    quantity=received,
                    amount=Decimal(0),
                )
            if bar["Dividends"] > 0 and ledger.holdings[ticker] > 0:
                pending_dividends.append(
                    (i + 10, ticker, ledger.holdings[ticker], Decimal(str(bar["Dividends"])))
                )
        for due in [d for d in pending_dividends if d[0] == i]:
            _, ticker, shares, per_share = due
            amount = _money(shares * per_share)
            ledger.cash += amount
            ledger.add(
                _instant_in_session(rng, session),
                "dividend",
                ticker=ticker,
                quantity=shares,
                price=per_share,
                amount=amount,
            )
            pending_dividends.remove(due)
        if foreign:
            continue
        if i % 9 == 3:  # a buy
            ticker = account.universe[int(rng.integers(len(account.universe)))]
            bar = daily[ticker].iloc[i]
            price = _money(bar["Low"] + (bar["High"] - bar["Low"]) * rng.uniform(0.1, 0.9))
            budget = min(ledger.cash * Decimal("0.15"), ledger.cash - 50)
            quantity = Decimal(int(budget / price))
            if quantity >= 1:
                fees = Decimal("1.00") if rng.random() < 0.5 else Decimal(0)
                cost = quantity * price + fees
                ledger.cash -= cost
                ledger.holdings[ticker] = ledger.holdings.get(ticker, Decimal(0)) + quantity
                ledger.add(
                    _instant_in_session(rng, session),
                    "buy",
                    ticker=ticker,
                    quantity=quantity,
                    price=price,
                    fees=fees,
                    amount=-cost,
                )
        if i % 23 == 11 and ledger.holdings:  # a sell of part (sometimes all) of a holding
            held = sorted(t for t, q in ledger.holdings.items() if q > 0)
            if held:
                ticker = held[int(rng.integers(len(held)))]
                bar = daily[ticker].iloc[i]
                price = _money(bar["Low"] + (bar["High"] - bar["Low"]) * rng.uniform(0.1, 0.9))
                share = 1.0 if rng.random() < 0.2 else rng.uniform(0.2, 0.6)
                quantity = max(
                    Decimal(1), Decimal(int(ledger.holdings[ticker] * Decimal(str(share))))
                )
                quantity = min(quantity, ledger.holdings[ticker])
                fees = Decimal("1.00")
                proceeds = quantity * price - fees
                ledger.cash += proceeds
                ledger.holdings[ticker] -= quantity
                ledger.add(
                    _instant_in_session(rng, session),
                    "sell",
                    ticker=ticker,
                    quantity=quantity,
                    price=price,
                    fees=fees,
                    amount=proceeds,
                )
        if i % 252 == 200:
            ledger.cash -= Decimal(25)
            ledger.add(
                _instant_in_session(rng, session), "fee", fees=Decimal(25), amount=Decimal(-25)
            )
    if not foreign:
        session = sessions.iloc[-15]
        ledger.cash -= Decimal(1500)
        ledger.add(_instant_in_session(rng, session), "withdrawal", amount=Decimal(-1500))
    return ledger.rows


def _defects(
    market: SampleMarket, daily: dict[str, pd.DataFrame], good: list[dict[str, object]]
) -> list[dict[str, object]]:
    """One row per TRANSACTION_DEFECTS entry, ids prefixed BAD- so tests can find them."""
    sessions = market.daily_sessions
    session = sessions.iloc[-30]
    at = session.open_at.to_pydatetime() + timedelta(hours=2)
    spy = daily["SPY"].iloc[len(sessions) - 30]
    spy_price = _money(spy["Close"])
    base = {
        "account_id": "ACC-1001",
        "executed_at": at,
        "ticker": "SPY",
        "action": "buy",
        "quantity": Decimal(1),
        "price": spy_price,
        "fees": Decimal(0),
        "amount": -spy_price,
        "currency": "USD",
    }
    last_buy = next(
        r for r in reversed(good) if r["action"] == "buy" and r["account_id"] == "ACC-1001"
    )
    tsla_split = next((r for r in good if r["action"] == "split" and r["ticker"] == "TSLA"), None)
    rows = {
        "unknown_action": {"action": "transfer_in"},
        "non_positive_quantity": {"quantity": Decimal(0), "amount": Decimal(0)},
        "future_timestamp": {
            "executed_at": datetime.combine(
                market.as_of + timedelta(days=30), datetime.min.time(), UTC
            )
            + timedelta(hours=15)
        },
        "unknown_ticker": {"ticker": "ZZZZ"},
        "currency_mismatch": {"account_id": "ACC-2001"},
        "oversell": {
            "action": "sell",
            "ticker": "QQQ",
            "quantity": Decimal(1000),
            "amount": Decimal(1000) * spy_price,
        },
        "probable_duplicate": {
            k: last_buy[k] for k in ("ticker", "quantity", "price", "fees", "amount")
        }
        | {"executed_at": last_buy["executed_at"] + timedelta(minutes=2)},
        "price_outside_range": {
            "price": _money(spy["High"] * 1.2),
            "amount": -_money(spy["High"] * 1.2),
        },
        "outside_session": {"executed_at": at.replace(hour=2, minute=0)},
        "split_disagrees": (
            {
                "action": "split",
                "ticker": "TSLA",
                "quantity": tsla_split["quantity"] / 2,
                "price": None,
                "executed_at": tsla_split["executed_at"] + timedelta(minutes=1),
                "amount": Decimal(0),
            }
            if tsla_split
            else {
                "action": "split",
                "ticker": "TSLA",
                "quantity": Decimal(5),
                "price": None,
                "amount": Decimal(0),
            }
        ),
    }
    return [base | {"transaction_id": f"BAD-{name}"} | change for name, change in rows.items()]
