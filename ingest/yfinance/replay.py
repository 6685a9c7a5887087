"""Replay Yahoo's answers offline, through the project's real yfinance calls.

`emulated_provider(source)` is a `YahooProvider` whose requests are the real
`yfinance_fetch`, `yfinance_download` and `yfinance_info`: yfinance runs unchanged (for
yf.download that is its tz stripping, reindexing and MultiIndex assembly), and only its
per-ticker network answer - `TickerBase.history` and `TickerBase.get_info` - is swapped for
`source` while a call runs. So whatever yfinance does to Yahoo's answers, the replay does too,
and a test on recorded frames fails where the live load would.

`RecordedFrames(folder)` is such a source over saved
`Ticker.history(auto_adjust=False, actions=True).to_csv()` files, answering as Yahoo would
have on `request_day` (see its docstring for what that changes).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd

from ingest.yfinance.provider import (
    YahooProvider,
    yfinance_download,
    yfinance_fetch,
    yfinance_info,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class FrameSource(Protocol):
    """Yahoo's per-ticker answers, as yfinance would return them on `request_day`."""

    request_day: date

    def history(self, ticker: str, *, start: date, end: date | None, interval: str) -> pd.DataFrame:
        """Exactly what `yf.Ticker(ticker).history(start=, end=, interval=,
        auto_adjust=False, actions=True)` returns: rows with start <= exchange-local date < end
        (no end: through request_day), a tz-aware index in the exchange's zone named `Date`
        (daily) or `Datetime` (intraday); an empty frame when there are none."""

    def info(self, ticker: str) -> dict[str, Any]:
        """yfinance's `Ticker.info` keys."""


class ReplayError(ValueError):
    """A replay folder or recording that cannot be used; the message says how to fix it."""


# --- the emulator -------------------------------------------------------------------------

# What the emulated TickerBase.history implements; anything else is refused rather than
# silently answered differently from Yahoo.
_HISTORY_DEFAULTS: dict[str, Any] = {
    "prepost": False,
    "auto_adjust": False,
    "back_adjust": False,
    "repair": False,
    "rounding": False,
}
_HISTORY_IGNORED = {"timeout", "keepna", "period", "raise_errors", "actions", "start", "end"}
_patch_lock = threading.RLock()


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _emulated_history(source: FrameSource) -> Callable[..., pd.DataFrame]:
    from yfinance import utils as yf_utils
    from yfinance.config import YfConfig
    from yfinance.const import period_default
    from yfinance.exceptions import YFPricesMissingError
    from yfinance.scrapers.history import PriceHistory

    def history(self: Any, *args: Any, interval: str = "1d", **kwargs: Any) -> pd.DataFrame:
        if args:
            raise ReplayError("the replay takes history() arguments by name only")
        unknown = set(kwargs) - set(_HISTORY_DEFAULTS) - _HISTORY_IGNORED
        wrong = {k for k, default in _HISTORY_DEFAULTS.items() if kwargs.get(k, default) != default}
        if unknown or wrong:
            raise ReplayError(
                "the replay implements history(start=, end=, interval=, auto_adjust=False, "
                "actions=, prepost=False, repair=False); not "
                + ", ".join(f"{k}={kwargs[k]!r}" for k in sorted(unknown | wrong))
            )
        start = _as_date(kwargs.get("start"))
        period = kwargs.get("period", period_default)
        if start is None or period not in (None, period_default):
            raise ReplayError("the replay answers start=/end= ranges only, not period=")
        end = _as_date(kwargs.get("end"))
        frame = source.history(self.ticker, start=start, end=end, interval=interval)
        if not kwargs.get("actions", True):
            frame = frame.drop(
                columns=["Dividends", "Stock Splits", "Capital Gains"], errors="ignore"
            )
        # yf.download reads the ticker's PriceHistory after history() for soft errors
        self._price_history = PriceHistory(self._data, self.ticker, None, session=self.session)
        if not frame.empty:
            return frame
        error = YFPricesMissingError(self.ticker, f" ({interval} {start} -> {end})")
        self._price_history._last_error = str(error).split(": ", 1)[1]
        if kwargs.get("raise_errors") or not YfConfig.debug.hide_exceptions:
            raise error
        yf_utils.get_yf_logger().error(str(error))
        return yf_utils.empty_df()

    return history


@contextmanager
def answering_from(source: FrameSource) -> Iterator[None]:
    """yfinance's per-ticker network answers come from `source` while inside; its caches are
    the in-memory dummies, so nothing is written to the user's cache folder."""
    import yfinance.cache as yf_cache
    from yfinance.base import TickerBase

    patches: list[tuple[Any, str, Any]] = [
        (TickerBase, "history", _emulated_history(source)),
        (TickerBase, "get_info", lambda self: dict(source.info(self.ticker))),
        (yf_cache, "get_tz_cache", yf_cache._TzCacheDummy),
        (yf_cache, "get_cookie_cache", yf_cache._CookieCacheDummy),
        (yf_cache, "get_isin_cache", yf_cache._ISINCacheDummy),
    ]
    with _patch_lock:  # class-level patches: one emulated call at a time
        saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
        try:
            for owner, name, value in patches:
                setattr(owner, name, value)
            yield
        finally:
            for owner, name, value in saved:
                setattr(owner, name, value)


def _through(source: FrameSource, call: Callable[..., T]) -> Callable[..., T]:
    def emulated(*args: Any) -> T:
        with answering_from(source):
            return call(*args)

    emulated.__name__ = f"emulated_{call.__name__}"
    return emulated


def emulated_provider(source: FrameSource, **kwargs: Any) -> YahooProvider:
    """A YahooProvider running the real yfinance requests against `source` instead of Yahoo;
    keyword arguments go to YahooProvider (policy, sleep, ...). Its `today` is the source's
    request_day, so Yahoo's 1-minute window is counted from the day the answers were given."""
    kwargs.setdefault("today", source.request_day)
    return YahooProvider(
        fetch=_through(source, yfinance_fetch),
        fetch_many=_through(source, yfinance_download),
        fetch_info=_through(source, yfinance_info),
        **kwargs,
    )


# --- recorded frames ----------------------------------------------------------------------

# Yahoo's symbol suffix -> the exchange's zone, for recordings without an info.json.
SUFFIX_TIMEZONES = {
    ".T": "Asia/Tokyo",
    ".L": "Europe/London",
    ".IL": "Europe/London",
    ".JO": "Africa/Johannesburg",
    ".ST": "Europe/Stockholm",
    ".MI": "Europe/Rome",
    ".PA": "Europe/Paris",
    ".TA": "Asia/Jerusalem",
    ".MC": "Europe/Madrid",
    ".HK": "Asia/Hong_Kong",
    ".TO": "America/Toronto",
    ".DE": "Europe/Berlin",
    ".AX": "Australia/Sydney",
    ".V": "America/Toronto",
}
NO_SUFFIX_TIMEZONE = "America/New_York"
REQUIRED_COLUMNS = ("Open", "High", "Low", "Close", "Volume")
INTERVAL_SUFFIXES = {"1d": ".csv", "1m": ".1m.csv"}


def _timezone_for(ticker: str, info: dict[str, Any], info_path: Path, csv_path: Path) -> str:
    if info.get("exchangeTimezoneName"):
        return str(info["exchangeTimezoneName"])
    if "." not in ticker:
        return NO_SUFFIX_TIMEZONE
    suffix = ticker[ticker.rindex(".") :]
    if suffix in SUFFIX_TIMEZONES:
        return SUFFIX_TIMEZONES[suffix]
    raise ReplayError(
        f"{csv_path}: no time zone known for suffix {suffix}; write "
        f'{info_path.name} beside it with {{"exchangeTimezoneName": "<IANA zone>"}}'
    )


def read_recording(path: Path, tz: str, interval: str) -> pd.DataFrame:
    """One saved `history().to_csv()` frame, as yfinance returned it: ascending, index in the
    exchange's zone. Values are kept as written (-inf, NaN, float volumes)."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise ReplayError(f"{path}: not a readable CSV ({error})") from error
    if frame.empty or frame.columns[0] not in ("Date", "Datetime"):
        raise ReplayError(
            f"{path}: expected Ticker.history(...).to_csv() output: a Date or Datetime column "
            "first, then Open, High, Low, Close, Adj Close, Volume, Dividends, Stock Splits"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ReplayError(f"{path}: no {', '.join(missing)} column")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame.iloc[:, 0], utc=True)).tz_convert(tz)
    except (ValueError, TypeError) as error:
        raise ReplayError(
            f"{path}: the first column must hold timestamps with their UTC offset ({error})"
        ) from error
    if interval == "1d" and (index != index.normalize()).any():
        raise ReplayError(
            f"{path}: daily bars are not at midnight in {tz}; the file's time zone is another: "
            'set "exchangeTimezoneName" in its .info.json'
        )
    frame = frame.iloc[:, 1:].set_axis(index.rename("Date" if interval == "1d" else "Datetime"))
    return frame.sort_index(kind="stable")


def _split_factor_after(splits: pd.Series, day: date) -> float:
    later = splits[[d > day for d in splits.index]]
    return float(np.prod(later.to_numpy())) if len(later) else 1.0


def as_answered_on(frame: pd.DataFrame, splits: pd.Series, day: date) -> pd.DataFrame:
    """A recorded frame as Yahoo would have answered on `day`: no bars after it, and the
    splits with ex-date after it (`splits`: ex-date -> ratio) taken out of the prices again.

    Every row left is before those splits, so all get the same factor F: OHLC and dividends
    x F, volume / F. Adj Close is Close x Yahoo's dividend multiplier M(t) = AdjClose/Close
    restricted to dividends up to `day`: M(t) / M(last row up to `day`)."""
    kept = frame.index.date <= day
    factor = _split_factor_after(splits, day)
    if kept.all() and factor == 1.0:
        return frame  # answered on the recording's own last day: as recorded
    frame = frame[kept].copy()
    if frame.empty:
        return frame
    if factor != 1.0:
        for column in ("Open", "High", "Low", "Close", "Dividends"):
            if column in frame:
                frame[column] = frame[column] * factor
        volume = frame["Volume"] / factor
        if volume.notna().all():
            volume = volume.round().astype(frame["Volume"].dtype)
        frame["Volume"] = volume
    if "Adj Close" in frame:
        recorded = frame["Adj Close"]
        multiplier = recorded / (frame["Close"] / factor)
        adjusted = frame["Close"] * multiplier / multiplier.iloc[-1]
        frame["Adj Close"] = adjusted.where(np.isfinite(recorded), recorded)
    return frame


class RecordedFrames:
    """A FrameSource over a folder of saved yfinance frames.

    `<TICKER>.csv` holds daily bars (`Ticker.history(auto_adjust=False, actions=True)
    .to_csv()`), `<TICKER>.1m.csv` minute bars in the same layout, `<TICKER>.info.json` the
    `Ticker.info` dict; the ticker is the file stem (a Yahoo symbol such as 4063.T). The time
    zone is info.json's exchangeTimezoneName, else the one of Yahoo's suffix.

    `request_day` (default: the last recorded day) is the day the answers are given: no bars
    after it, and splits recorded after it are un-applied, since Yahoo adjusts prices only for
    splits up to the day of the request.
    """

    def __init__(self, folder: Path | str, request_day: date | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ReplayError(f"replay folder {self.folder} is not a folder")
        daily = sorted(
            p for p in self.folder.glob("*.csv") if not p.name.endswith(INTERVAL_SUFFIXES["1m"])
        )
        if not daily:
            raise ReplayError(
                f"replay folder {self.folder} holds no <SYMBOL>.csv recordings; save them with "
                "yf.Ticker(SYMBOL).history(auto_adjust=False, actions=True).to_csv(...)"
            )
        self._info: dict[str, dict[str, Any]] = {}
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}
        self._tz: dict[str, str] = {}
        for path in daily:
            ticker = path.stem.upper()
            info_path = path.with_suffix(".info.json")
            info = self._read_info(info_path)
            tz = _timezone_for(ticker, info, info_path, path)
            self._info[ticker], self._tz[ticker] = info, tz
            self._frames[ticker, "1d"] = read_recording(path, tz, "1d")
            minute = path.with_suffix(INTERVAL_SUFFIXES["1m"])
            if minute.exists():
                self._frames[ticker, "1m"] = read_recording(minute, tz, "1m")
        recorded = [f for f in self._frames.values() if not f.empty]
        if not recorded:
            raise ReplayError(f"replay folder {self.folder} holds only empty recordings")
        self.first_day: date = min(f.index[0].date() for f in recorded)
        self.request_day: date = request_day or max(f.index[-1].date() for f in recorded)

    @staticmethod
    def _read_info(path: Path) -> dict[str, Any]:
        if not path.exists():
            return {}
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ReplayError(f"{path}: not a JSON object ({error})") from error
        if not isinstance(info, dict):
            raise ReplayError(f"{path}: not a JSON object")
        return info

    @property
    def tickers(self) -> list[str]:
        return list(self._info)

    def intervals(self) -> set[str]:
        """The intervals some ticker has a recording of."""
        return {interval for _, interval in self._frames}

    def splits(self, ticker: str) -> pd.Series:
        """Recorded splits of `ticker`, exchange-local ex-date -> ratio."""
        daily = self._frames.get((ticker.upper(), "1d"))
        if daily is None or "Stock Splits" not in daily:
            return pd.Series(dtype="float64")
        ratios = pd.to_numeric(daily["Stock Splits"], errors="coerce")
        ratios = ratios[ratios.notna() & (ratios != 0) & (ratios != 1)]
        return pd.Series(ratios.to_numpy(), index=list(ratios.index.date), dtype="float64")

    def history(self, ticker: str, *, start: date, end: date | None, interval: str) -> pd.DataFrame:
        if interval not in INTERVAL_SUFFIXES:
            raise ReplayError(
                f"no {interval} recordings: the replay knows {', '.join(INTERVAL_SUFFIXES)}"
            )
        recorded = self._frames.get((ticker.upper(), interval))
        if recorded is None:
            return pd.DataFrame()
        frame = as_answered_on(recorded, self.splits(ticker), self.request_day)
        local = frame.index.date
        keep = local >= start
        if end is not None:
            keep &= local < end
        return frame[keep]

    def info(self, ticker: str) -> dict[str, Any]:
        ticker = ticker.upper()
        if ticker not in self._info:
            return {}  # yfinance's answer for an unknown symbol carries no quoteType either
        if not self._info[ticker]:
            log.warning(
                "%s: no %s.info.json in %s; its metadata is only the symbol and time zone",
                ticker,
                ticker,
                self.folder,
            )
            return {"symbol": ticker, "exchangeTimezoneName": self._tz[ticker]}
        return dict(self._info[ticker])
