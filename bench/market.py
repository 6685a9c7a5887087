"""The sample market of a scale, generated once and read back by every load that uses it.

Generating 20 M minute bars takes minutes; the loads being compared (dlt, bare DuckDB)
should not pay for it, nor hold every ticker in memory at once. `generate` writes each
ticker's Yahoo-shaped frames to a folder; `PregeneratedMarket` is a SampleMarket that
reads them back one ticker at a time, so `history()` slices them exactly as the sample
generator does.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd

from bench.scales import Scale
from sampleworld.market import SampleMarket


def sample_market(scale: Scale) -> SampleMarket:
    return SampleMarket(
        scale.as_of,
        daily_years=scale.daily_years,
        minute_sessions=scale.minute_sessions,
        seed=scale.seed,
        universe=scale.universe,
    )


def _frame_path(folder: Path, interval: str, ticker: str) -> Path:
    return folder / interval / f"{ticker}.pkl"


def generate(scale: Scale, folder: Path) -> dict[str, int]:
    """Write every ticker's daily and minute frames under `folder`; return the row counts."""
    market = sample_market(scale)
    rows = {"1d": 0, "1m": 0}
    for interval in rows:
        (folder / interval).mkdir(parents=True, exist_ok=True)
    for ticker in market.tickers:
        daily, minute = market._bars(ticker)
        for interval, frame in (("1d", daily), ("1m", minute)):
            with _frame_path(folder, interval, ticker).open("wb") as f:
                pickle.dump(frame, f, protocol=pickle.HIGHEST_PROTOCOL)
            rows[interval] += len(frame)
    return rows


class PregeneratedMarket(SampleMarket):
    """The scale's SampleMarket, serving the frames `generate` wrote."""

    def __init__(self, scale: Scale, folder: Path) -> None:
        super().__init__(
            scale.as_of,
            daily_years=scale.daily_years,
            minute_sessions=scale.minute_sessions,
            seed=scale.seed,
            universe=scale.universe,
        )
        self.folder = folder

    def _read(self, interval: str, ticker: str) -> pd.DataFrame:
        with _frame_path(self.folder, interval, ticker).open("rb") as f:
            return pickle.load(f)

    def _daily_frame(self, ticker: str) -> pd.DataFrame:
        return self._read("1d", ticker)

    def _minute_frame(self, ticker: str) -> pd.DataFrame:
        return self._read("1m", ticker)
