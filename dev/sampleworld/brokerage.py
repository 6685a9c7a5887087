"""Seeded brokerage accounts and transactions that trade the sample market.

Trades happen at instants inside sessions and at prices inside the range of that very
minute's bar where the sample has minute bars (the last sessions), inside the day's
range before that; holdings never go short; dividends and splits follow the market
data's actions. With `defects`, a few rows carry the faults real broker data has
(`TRANSACTION_DEFECTS`), so the dbt quarantine and anomaly checks have work.

`write_exports` writes the same data as a broker's CSV exports (the inbox format in
docs/brokerage.md): one accounts file, one file per account and month that repeats the
previous month's last week (exports overlap in real life), and with `defects` the
faults only a file can have (`EXPORT_DEFECTS`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ingest.brokerage.records import (  # the contract's shapes live with the source
    ACCOUNT_COLUMNS,
    ACCOUNTS_SCHEMA,
    TRANSACTION_COLUMNS,
    TRANSACTIONS_SCHEMA,
    format_value,
)
from sampleworld.market import EXCHANGE_TZ, SampleMarket, _seed_for

CENT = Decimal("0.01")
TICK = Decimal("0.0001")  # the sample's bars are rounded to 4 decimals

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
    "negative_quantity",
    "unknown_account",
    "non_positive_price",
    "invalid_amount",
    "amount_disagrees",
    "price_outside_minute_range",
)

# Faults only an export file can carry, written by `write_exports` (ids BAD-<name>, except
# the repeated line, which repeats a good transaction's line).
EXPORT_DEFECTS = ("unparseable_timestamp", "conflicting_duplicate", "repeated_line")


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


class _TradingPrices:
    """Where and at what price the sample's accounts can trade in each session."""

    def __init__(self, market: SampleMarket, tickers: set[str]) -> None:
        self.sessions = market.daily_sessions
        self.first_minute_session = market.first_minute_session
        end = market.as_of + timedelta(days=1)
        start = self.sessions.session_date.iloc[0]
        self.daily = {
            t: market.traded_history(t, start=start, end=end, interval="1d") for t in tickers
        }
        self.minutes = {
            t: self._tradable_minutes(
                market.traded_history(t, start=self.first_minute_session, end=end, interval="1m")
            )
            for t in tickers
        }

    def _tradable_minutes(self, bars: pd.DataFrame) -> dict[object, pd.DataFrame]:
        """Per session date, the bars a trade can have happened in: inside the session,
        with a coherent range and volume (a faulty bar is the market data's defect, not a
        place to trade), and not stamped twice."""
        bars = bars[~bars.index.duplicated(keep=False)]
        sane = (
            (bars["Low"] <= bars[["Open", "Close"]].min(axis=1))
            & (bars[["Open", "Close"]].max(axis=1) <= bars["High"])
            & (bars["Volume"] > 0)
        )
        bars = bars[sane]
        by_session = {}
        minute_sessions = self.sessions[self.sessions.session_date >= self.first_minute_session]
        for session in minute_sessions.itertuples():
            inside = (bars.index >= session.open_at) & (bars.index < session.close_at)
            by_session[session.session_date] = bars[inside]
        return by_session

    def trade(
        self, rng: np.random.Generator, ticker: str, i: int, session: pd.Series
    ) -> tuple[datetime, Decimal]:
        """(instant, price) of a trade in session `i`: inside a minute bar's low-high where
        that session has minute bars, inside the day's low-high otherwise."""
        bars = self.minutes[ticker].get(session.session_date)
        if bars is not None and len(bars):
            bar = bars.iloc[int(rng.integers(len(bars)))]
            at = bar.name.to_pydatetime() + timedelta(seconds=int(rng.integers(0, 60)))
            return at.astimezone(UTC), _price_within(rng, bar["Low"], bar["High"])
        bar = self.daily[ticker].iloc[i]
        price = _price_within(rng, bar["Low"], bar["High"])
        return _instant_in_session(rng, session), price

    def price_at(self, ticker: str, i: int, at: datetime) -> Decimal:
        """A price that was traded at `at`: the minute bar's close, else the day's close."""
        bars = self.minutes[ticker].get(self.sessions.session_date.iloc[i])
        minute = pd.Timestamp(at).floor("min").tz_convert(EXCHANGE_TZ)
        if bars is not None and minute in bars.index:
            return _money(bars.loc[minute, "Close"])
        return _money(self.daily[ticker].iloc[i]["Close"])


def _price_within(rng: np.random.Generator, low: float, high: float) -> Decimal:
    """A price between low and high: whole cents as brokers print them, unless the range
    holds no whole cent (then to the bar's own 4 decimals, which stays inside)."""
    low_d, high_d = Decimal(str(round(low, 4))), Decimal(str(round(high, 4)))
    target = low_d + (high_d - low_d) * Decimal(str(rng.uniform(0.1, 0.9)))
    lowest, highest = low_d.quantize(CENT, ROUND_CEILING), high_d.quantize(CENT, ROUND_FLOOR)
    if lowest > highest:
        return target.quantize(TICK)
    return min(max(target.quantize(CENT), lowest), highest)


def generate_brokerage(market: SampleMarket) -> tuple[pa.Table, pa.Table]:
    """(accounts, transactions) arrow tables in the raw contract's shape."""
    sessions = market.daily_sessions
    prices = _TradingPrices(market, {t for a in SAMPLE_ACCOUNTS for t in a.universe})
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
        transactions.extend(_account_transactions(market, account, prices))
    if market.defects:
        transactions.extend(_defects(market, prices, transactions))
    return (
        pa.Table.from_pylist(accounts, schema=ACCOUNTS_SCHEMA),
        pa.Table.from_pylist(transactions, schema=TRANSACTIONS_SCHEMA),
    )


def _instant_in_session(rng: np.random.Generator, session: pd.Series) -> datetime:
    minutes = int((session.close_at - session.open_at).total_seconds() // 60)
    offset = timedelta(minutes=int(rng.integers(1, minutes - 1)), seconds=int(rng.integers(0, 60)))
    return (session.open_at + offset).to_pydatetime().astimezone(UTC)


def _account_transactions(
    market: SampleMarket, account: SampleAccount, prices: _TradingPrices
) -> list[dict[str, object]]:
    rng = _seed_for(market.seed, account.account_id, "transactions")
    ledger = _Ledger(account)
    sessions = market.daily_sessions
    # An account in another currency than the market's holds only cash: an account holds one
    # currency (a USD buy in it is currency_mismatch), so its money moves in EUR (deposits,
    # quarterly interest, a withdrawal) and the warehouse states it in USD at each session's
    # EURUSD=X (docs/portfolio.md, "Currencies").
    foreign = account.base_currency != "USD"
    pending_dividends: list[tuple[int, str, Decimal, Decimal]] = []
    for i, session in enumerate(sessions.itertuples()):
        if i == 0 or i % 21 == 0:
            amount = account.initial_deposit if i == 0 else Decimal(2000)
            ledger.cash += amount
            ledger.add(_instant_in_session(rng, session), "deposit", amount=amount)
        for ticker in list(ledger.holdings):
            bar = prices.daily[ticker].iloc[i]
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
            if i % 63 == 62:  # interest on the cash, a quarter's worth of 2 % a year
                interest = _money(ledger.cash * Decimal("0.005"))
                ledger.cash += interest
                ledger.add(_instant_in_session(rng, session), "interest", amount=interest)
            continue
        if i % 9 == 3:  # a buy
            ticker = account.universe[int(rng.integers(len(account.universe)))]
            at, price = prices.trade(rng, ticker, i, session)
            budget = min(ledger.cash * Decimal("0.15"), ledger.cash - 50)
            quantity = Decimal(int(budget / price))
            if quantity >= 1:
                fees = Decimal("1.00") if rng.random() < 0.5 else Decimal(0)
                cost = quantity * price + fees
                ledger.cash -= cost
                ledger.holdings[ticker] = ledger.holdings.get(ticker, Decimal(0)) + quantity
                ledger.add(
                    at,
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
                at, price = prices.trade(rng, ticker, i, session)
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
                    at,
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
    session = sessions.iloc[-15]
    ledger.cash -= Decimal(1500)
    ledger.add(_instant_in_session(rng, session), "withdrawal", amount=Decimal(-1500))
    return ledger.rows


def _later_in_same_minute(at: datetime) -> datetime:
    """A later instant in the same minute: a repeat booked seconds after the original, whose
    price therefore still fits that minute's bar."""
    return at.replace(second=59) if at.second < 59 else at.replace(microsecond=500_000)


def _defects(
    market: SampleMarket, prices: _TradingPrices, good: list[dict[str, object]]
) -> list[dict[str, object]]:
    """One row per TRANSACTION_DEFECTS entry, ids prefixed BAD- so tests can find them.

    Each row carries one fault only: the base row is a coherent buy (a price traded at
    that instant), so a validation that finds two faults in it is wrong about one.
    """
    sessions = market.daily_sessions
    session = sessions.iloc[-30]
    at = session.open_at.to_pydatetime() + timedelta(hours=2)
    spy = prices.daily["SPY"].iloc[len(sessions) - 30]
    spy_price = prices.price_at("SPY", len(sessions) - 30, at)
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
    last_buy_at = last_buy["executed_at"]
    assert isinstance(last_buy_at, datetime)
    tsla_split = next((r for r in good if r["action"] == "split" and r["ticker"] == "TSLA"), None)
    split_disagrees: dict[str, object] = {
        "action": "split",
        "ticker": "TSLA",
        "quantity": Decimal(5),
        "price": None,
        "amount": Decimal(0),
    }
    if tsla_split:
        ratio, split_at = tsla_split["quantity"], tsla_split["executed_at"]
        assert isinstance(ratio, Decimal) and isinstance(split_at, datetime)
        split_disagrees |= {"quantity": ratio / 2, "executed_at": split_at + timedelta(minutes=1)}
    rows: dict[str, dict[str, object] | None] = {
        "unknown_action": {"action": "exercise"},  # an action the warehouse does not know
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
        | {"executed_at": _later_in_same_minute(last_buy_at)},
        "price_outside_range": {
            "price": _money(spy["High"] * 1.2),
            "amount": -_money(spy["High"] * 1.2),
        },
        "outside_session": {"executed_at": at.replace(hour=2, minute=0)},
        "split_disagrees": split_disagrees,
        "negative_quantity": {"quantity": Decimal(-5), "amount": 5 * spy_price},
        "unknown_account": {"account_id": "ACC-9999"},
        "non_positive_price": {"price": Decimal(0), "amount": Decimal(0)},
        "invalid_amount": {"amount": spy_price},  # a buy that brings cash in
        "amount_disagrees": {"amount": -(spy_price + Decimal(10))},  # $10 more than 1 x price
        "price_outside_minute_range": _inside_day_outside_minute(prices, len(sessions) - 1),
    }
    return [
        base | {"transaction_id": f"BAD-{name}"} | change
        for name, change in rows.items()
        if change is not None
    ]


def _inside_day_outside_minute(prices: _TradingPrices, i: int) -> dict[str, object] | None:
    """A SPY buy in session `i` at the day's high, in a minute whose own high is lower:
    plausible for the day, impossible for that minute. None when the session has no
    minute bars (a sample with few minute sessions) or no such minute."""
    session = prices.sessions.iloc[i]
    bars = prices.minutes["SPY"].get(session.session_date)
    if bars is None or bars.empty:
        return None
    day_high = Decimal(str(prices.daily["SPY"].iloc[i]["High"])).quantize(CENT, ROUND_FLOOR)
    lower = bars[bars["High"] < float(day_high)]
    if lower.empty:
        return None
    bar = lower.iloc[len(lower) // 2]
    at = bar.name.to_pydatetime().astimezone(UTC) + timedelta(seconds=30)
    return {"executed_at": at, "price": day_high, "amount": -day_high}


def _csv_text(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _export_line(row: dict[str, object], columns: tuple[str, ...]) -> list[str]:
    return [format_value(row[c]) for c in columns]


def _month_start(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def _export_defect_lines(template: dict[str, object]) -> list[list[str]]:
    """The EXPORT_DEFECTS lines, built from a good buy, in the order they are written."""
    line = _export_line(template, TRANSACTION_COLUMNS)
    column = TRANSACTION_COLUMNS.index
    quantity, price, fees = (Decimal(str(template[c])) for c in ("quantity", "price", "fees"))
    conflicting = [
        _export_line(
            template
            | {
                "transaction_id": "BAD-conflicting_duplicate",
                "quantity": q,
                "amount": -(q * price + fees),
            },
            TRANSACTION_COLUMNS,
        )
        for q in (quantity, quantity + 1)
    ]
    executed_at = template["executed_at"]
    assert isinstance(executed_at, datetime)
    unparseable = [*line]
    unparseable[column("transaction_id")] = "BAD-unparseable_timestamp"
    # What a spreadsheet makes of an instant: US local time, no zone.
    unparseable[column("executed_at")] = (
        pd.Timestamp(executed_at).tz_convert(EXCHANGE_TZ).strftime("%m/%d/%Y %I:%M %p")
    )
    return [line, line, conflicting[0], unparseable, conflicting[1]]


def write_exports(
    inbox: Path,
    accounts: pa.Table,
    transactions: pa.Table,
    *,
    defects: bool,
    overlap_days: int = 7,
) -> list[Path]:
    """Write the data as a broker's CSV exports into `inbox`; returns the files written.

    `accounts.csv`, and per account and month `transactions_<account>_<YYYY-MM>.csv`
    holding that month plus the previous month's last `overlap_days` days. The folder is
    the sample's own: CSV files it no longer produces are removed, and a file whose
    content is unchanged is not rewritten. With `defects`, the month of the account
    ACC-1001's last buy also carries EXPORT_DEFECTS: that buy's line twice, a
    transaction id written twice with different quantities, and a local, zone-less
    timestamp.
    """
    files = {
        "accounts.csv": _csv_text(
            ACCOUNT_COLUMNS, [_export_line(r, ACCOUNT_COLUMNS) for r in accounts.to_pylist()]
        )
    }
    rows = sorted(transactions.to_pylist(), key=lambda r: (r["executed_at"], r["transaction_id"]))
    template = next(
        (
            r
            for r in reversed(rows)
            if r["action"] == "buy"
            and r["account_id"] == "ACC-1001"
            and not str(r["transaction_id"]).startswith("BAD-")
        ),
        None,
    )
    overlap = timedelta(days=overlap_days)
    for account in sorted({str(r["account_id"]) for r in rows}):
        own = [r for r in rows if r["account_id"] == account]
        months = sorted({_month_start(r["executed_at"]) for r in own})
        for month in months:
            lines = []
            for row in own:
                executed_at = row["executed_at"]
                assert isinstance(executed_at, datetime)
                if not month - overlap <= executed_at < _next_month(month):
                    continue
                if defects and row is template and _month_start(executed_at) == month:
                    lines.extend(_export_defect_lines(row))
                else:
                    lines.append(_export_line(row, TRANSACTION_COLUMNS))
            name = f"transactions_{account}_{month:%Y-%m}.csv"
            files[name] = _csv_text(TRANSACTION_COLUMNS, lines)
    inbox.mkdir(parents=True, exist_ok=True)
    for stale in inbox.glob("*.csv"):
        if stale.name not in files:
            stale.unlink()
    written = []
    for name, text in files.items():
        path = inbox / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    return written
