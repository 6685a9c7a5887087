"""`python -m ingest session-check`: is a day a trading session? Its options and its handler.

The daily workflow asks this before loading, so that a weekend or an exchange holiday is
skipped without a run: the command prints `open=true` or `open=false` on stdout (the line
GitHub Actions reads from `$GITHUB_OUTPUT`) and one sentence on stderr. It reads nothing but
exchange_calendars' calendar (ingest/calendar.py): no warehouse, no lock, no network.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime

from ingest import audit
from ingest import calendar as exchange_calendar


def _exchange(text: str) -> str:
    import exchange_calendars as xcals

    code = text.strip().upper()
    if code not in xcals.get_calendar_names(include_aliases=False):
        raise argparse.ArgumentTypeError(
            f"not an exchange_calendars code (e.g. XNYS, XLON, XTKS): {text!r}"
        )
    return code


def add_parser(sub: argparse._SubParsersAction, *, date_type: Callable[[str], date]) -> None:
    parser = sub.add_parser(
        "session-check",
        help="say whether a day is a trading session (open=true/false, for $GITHUB_OUTPUT)",
        description="Print 'open=true' if DATE is a trading session of EXCHANGE, else "
        "'open=false' (weekend or exchange holiday), on stdout, and one sentence on stderr. "
        "The daily workflow appends the line to $GITHUB_OUTPUT and skips the load on "
        "'open=false'. Exit 0 either way; 2 on a bad option. Reads no warehouse.",
    )
    parser.add_argument(
        "--date",
        type=date_type,
        metavar="DATE",
        help="the day to check, YYYY-MM-DD (default: today in the exchange's time zone, "
        "e.g. New York's date for XNYS)",
    )
    parser.add_argument(
        "--exchange",
        type=_exchange,
        default=exchange_calendar.NYSE,
        metavar="CODE",
        help=f"exchange_calendars code of the exchange (default: {exchange_calendar.NYSE})",
    )
    parser.set_defaults(verbose=False)  # nothing to log beyond its two lines


def exchange_today(exchange: str, now: datetime | None = None) -> date:
    """Today's date where the exchange is (`now` is an aware instant, default: now)."""
    now = now or datetime.now(UTC)
    return now.astimezone(exchange_calendar.calendar(exchange).tz).date()


def is_session(day: date, exchange: str) -> bool:
    """True if `day` is a trading session of `exchange` (full or early close)."""
    return not exchange_calendar.sessions(day, day, exchange).empty


def run(args: argparse.Namespace) -> int:
    day = args.date or exchange_today(args.exchange)
    known = exchange_calendar.calendar(args.exchange)
    first, last = known.first_session.date(), known.last_session.date()
    if not first <= day <= last:  # outside the calendar: no answer, rather than a false one
        print(
            f"error: {day} is outside the {args.exchange} calendar ({first} to {last})",
            file=sys.stderr,
        )
        return audit.EXIT_USAGE
    is_open = is_session(day, args.exchange)
    print(f"open={str(is_open).lower()}")
    state = "a trading session" if is_open else "not a trading session (weekend or holiday)"
    print(f"{args.exchange}: {day} is {state}", file=sys.stderr)
    return audit.EXIT_OK
