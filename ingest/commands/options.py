"""What the commands' parsers share: one-line usage errors and the option types."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from ingest import audit


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(audit.EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def ticker_list(text: str) -> list[str]:
    tickers = [t.strip().upper() for t in text.split(",") if t.strip()]
    if not tickers:
        raise argparse.ArgumentTypeError("give at least one ticker, e.g. SPY,AAPL")
    return tickers


def positive(number: type[int] | type[float]):  # -> an argparse type
    def parse(text: str) -> int | float:
        try:
            value = number(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"not a positive {number.__name__}: {text!r}")
        return value

    return parse


def existing_file(text: str) -> Path:
    """An option naming a file that must exist (else a usage error: exit 2)."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path
