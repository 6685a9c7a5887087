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
    return SessionFeed(session=session, arrivals=_arrivals(frame))


def _arrivals(frame: pd.DataFrame) -> list[Arrival]:
    """Raw-contract rows grouped by the instant they become known (the minute's close)."""
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return [
        Arrival(at=(ts + BAR_LENGTH).to_pydatetime(), bars=bars.reset_index(drop=True))
        for ts, bars in frame.groupby("ts", sort=True)
    ]


def _recordings(folder: Path, request_day: date | None = None):
    from ingest.yfinance.replay import RecordedFrames, ReplayError

    try:
        frames = RecordedFrames(folder, request_day=request_day)
    except ReplayError as error:
        raise ConfigError(str(error)) from error
    if "1m" not in frames.intervals():
        raise ConfigError(
            f"{folder} holds no minute recordings: save <SYMBOL>.1m.csv files with "
            'yf.Ticker(SYMBOL).history(period="1d", interval="1m", auto_adjust=False, '
            "actions=True).to_csv(...) beside the daily <SYMBOL>.csv (docs/replay.md)"
        )
    return frames


def latest_recorded_session(folder: Path) -> date:
    """The latest exchange-local day of any minute recording in `folder`."""
    frames = _recordings(folder)
    recorded = [frames.history(t, start=date.min, end=None, interval="1m") for t in frames.tickers]
    return max(f.index[-1].date() for f in recorded if not f.empty)


def read_recorded_session(
    folder: Path, session: date, tickers: list[str] | None = None
) -> SessionFeed:
    """The session's minute bars from a folder of saved yfinance frames (`<SYMBOL>.1m.csv`),
    fetched through the replay seam - yfinance's own `Ticker.history(interval="1m")` answered
    from the files, as `ingest yfinance --replay` does - and normalized by the real load's
    `bars_1m`, so they reach raw exactly as a load on the session's day would write them."""
    from ingest.yfinance.normalize import bars_1m
    from ingest.yfinance.replay import emulated_provider

    frames = _recordings(folder, request_day=session)
    provider = emulated_provider(frames)
    wanted = tickers or frames.tickers
    unknown = sorted(set(wanted) - set(frames.tickers))
    if unknown:
        raise ConfigError(f"no recordings of {', '.join(unknown)} in {folder}")
    tables = []
    for ticker in wanted:
        answer = provider.history(
            ticker, start=session, end=session + timedelta(days=1), interval="1m"
        )
        if not answer.empty:
            tables.append(bars_1m(ticker, answer, adjusted_as_of=session).table.to_pandas())
    if not tables:
        raise ConfigError(
            f"no minute bars on {session} in {folder}: choose a day with minutes "
            f"(the latest is {latest_recorded_session(folder)})"
        )
    frame = pd.concat(tables, ignore_index=True).sort_values(["ts", "ticker"], kind="stable")
    return SessionFeed(session=session, arrivals=_arrivals(frame))


def prepare_recorded_warehouse(folder: Path, target: Path, session: date) -> int:
    """A fresh replay warehouse holding `folder`'s recordings up to the day before `session`
    (daily bars, metadata, earlier minutes), loaded by `ingest yfinance --replay DIR --end
    <that day>`'s own code, so the session lands on the history a real load would have left.
    Returns the number of rows loaded."""
    import argparse

    from ingest.commands.yfinance import run_replay as run_yfinance_replay
    from ingest.config import Warehouse
    from ingest.warehouse import REAL, claim_data_kind

    target = target.resolve()
    if target.exists():
        connect(target).close()  # refuses a replay warehouse another process is writing
    for suffix in ("", ".wal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    warehouse = Warehouse(target="ci", path=target)
    claim_data_kind(warehouse, REAL, "ingest replay --from-replay", allow_mixing=False)
    load = argparse.Namespace(
        replay=folder,
        as_of=None,
        end=session - timedelta(days=1),
        start=None,
        intervals=("1d", "1m"),
        tickers=None,
        tickers_file=None,
    )
    (report,) = run_yfinance_replay(load, warehouse)
    if report.load_failed:
        raise ConfigError(f"loading the history of {folder} failed: {report.error}")
    return report.rows_written


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
