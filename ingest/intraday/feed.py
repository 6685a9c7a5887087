"""The replayed session: its minute bars from a warehouse's raw layer, in arrival order, and
the replay warehouse prepared to receive them (a copy of the source without that session)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from ingest.config import ConfigError
from ingest.warehouse import connect

DEFAULT_TIMEZONE = "America/New_York"  # a ticker without metadata trades in New York
# A bar is known when its minute has closed: the 09:30 bar arrives at 09:31.
BAR_LENGTH = timedelta(minutes=1)

# The raw minutes of one exchange-local day, each ticker in its own exchange's zone.
_SESSION_ROWS = """
    select b.ticker, b.ts, b.open, b.high, b.low, b.close, b.volume, b.adjusted_as_of
    from raw_yfinance.bars_1m as b
    left join raw_yfinance.tickers as t on b.ticker = t.ticker
    where cast(timezone(coalesce(t.exchange_timezone, '{tz}'), b.ts) as date) = ?
    order by b.ts, b.ticker
"""
_LATEST_SESSION = """
    select max(cast(timezone(coalesce(t.exchange_timezone, '{tz}'), b.ts) as date))
    from raw_yfinance.bars_1m as b
    left join raw_yfinance.tickers as t on b.ticker = t.ticker
"""


@dataclass(frozen=True)
class Arrival:
    """The bars that arrive together: every ticker's bar of one minute."""

    at: datetime  # when the bars are known (the minute's close), UTC
    bars: pd.DataFrame  # raw contract columns: ticker, ts, open, high, low, close, volume, ...


@dataclass(frozen=True)
class SessionFeed:
    session: date
    arrivals: list[Arrival]

    @property
    def tickers(self) -> list[str]:
        return sorted({t for a in self.arrivals for t in a.bars["ticker"]})

    @property
    def bar_count(self) -> int:
        return sum(len(a.bars) for a in self.arrivals)


def _read_only(path: Path):
    if not path.exists():
        raise ConfigError(
            f"source warehouse {path} does not exist: load data first (`make demo` fills the "
            "sample warehouse)"
        )
    return connect(path, read_only=True)


def latest_session(source: Path) -> date:
    """The latest exchange-local day with minute bars in `source`."""
    with _read_only(source) as con:
        try:
            (day,) = con.execute(_LATEST_SESSION.format(tz=DEFAULT_TIMEZONE)).fetchone()
        except Exception as error:  # no raw_yfinance.bars_1m: nothing was ever loaded
            raise ConfigError(f"{source} holds no minute bars ({error})") from error
    if day is None:
        raise ConfigError(f"{source} holds no minute bars to replay")
    return day


def read_session(source: Path, session: date, tickers: list[str] | None = None) -> SessionFeed:
    """The session's raw minutes in `source`, grouped by the instant they become known."""
    with _read_only(source) as con:
        frame = con.execute(_SESSION_ROWS.format(tz=DEFAULT_TIMEZONE), [session]).df()
    if tickers:
        missing = sorted(set(tickers) - set(frame["ticker"]))
        if missing:
            raise ConfigError(f"no minute bars of {', '.join(missing)} on {session} in {source}")
        frame = frame[frame["ticker"].isin(tickers)]
    if frame.empty:
        raise ConfigError(
            f"no minute bars on {session} in {source}: choose a day with minutes "
            f"(the latest is {latest_session(source)})"
        )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    arrivals = [
        Arrival(at=(ts + BAR_LENGTH).to_pydatetime(), bars=bars.reset_index(drop=True))
        for ts, bars in frame.groupby("ts", sort=True)
    ]
    return SessionFeed(session=session, arrivals=arrivals)


def prepare_replay_warehouse(source: Path, target: Path, feed: SessionFeed) -> int:
    """Copy `source` to `target` and delete the raw minutes from the session's first bar on,
    so the replay lands them into a warehouse as it was before the session opened. Returns
    the number of minute rows deleted. The source is only read; the copy replaces the
    target only once complete."""
    source, target = source.resolve(), target.resolve()
    if source == target:
        raise ConfigError(
            f"the replay would write into its source {source}: give another --replay-warehouse"
        )
    _read_only(source).close()  # refuses a source another process is writing
    if target.exists():
        connect(target).close()  # ... and a replay warehouse another process is writing
    target.parent.mkdir(parents=True, exist_ok=True)
    copies = []
    for suffix in ("", ".wal"):  # a WAL left by a finished writer holds committed data
        original = Path(f"{source}{suffix}")
        if original.exists():
            partial = Path(f"{target}{suffix}.partial")
            shutil.copyfile(original, partial)
            copies.append((partial, Path(f"{target}{suffix}")))
    Path(f"{target}.wal").unlink(missing_ok=True)
    for partial, final in copies:
        partial.replace(final)
    first_bar = min(a.at for a in feed.arrivals) - BAR_LENGTH
    with connect(target) as con:
        result = con.execute(
            "delete from raw_yfinance.bars_1m where ts >= ?", [first_bar]
        ).fetchone()
        assert result is not None  # DuckDB's delete returns one row: the count
        (deleted,) = result
    return int(deleted)
