"""The checks across daily bars (int_bars_1d_checked, fct_flagged_bars) on real Yahoo frames.

Every frame of tests/data/yfinance (recorded by yfinance, see its README) is replayed through
the real ingest (`python -m ingest yfinance --replay`) into one scratch warehouse, each under
its own symbol (a -fixed frame as <SYMBOL>-FIXED), and dbt builds the checks. The expected
findings below are written from the defects the README and yfinance's repaired `-fixed`
counterparts describe, not copied from the models' output; the clean (`no-bad-divs`) and
`-fixed` frames are the false-positive set: nothing may be flagged there except what is
really in them (listed in LEGITIMATE, with the reason).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline import dbt, ingest, query, warehouse_env

FRAMES = Path(__file__).parent / "data" / "yfinance"

# Yahoo's metadata of each recorded ticker (the frames carry none): exchange code, currency.
TICKER_METADATA = {
    "1398-HK": ("HKG", "Asia/Hong_Kong", "HKD"),
    "4063-T": ("JPX", "Asia/Tokyo", "JPY"),
    "AET-L": ("LSE", "Europe/London", "GBp"),
    "CALM": ("NMS", "America/New_York", "USD"),
    "CNE-L": ("LSE", "Europe/London", "GBp"),
    "DODFX": ("NAS", "America/New_York", "USD"),
    "EWG": ("PCX", "America/New_York", "USD"),
    "HSBK-IL": ("IOB", "Europe/London", "USD"),
    "IBE-MC": ("MCE", "Europe/Madrid", "EUR"),
    "KEN-TA": ("TLV", "Asia/Jerusalem", "ILA"),
    "KMR-L": ("LSE", "Europe/London", "GBp"),
    "MOB-ST": ("STO", "Europe/Stockholm", "SEK"),
    "SAND": ("NYQ", "America/New_York", "USD"),
    "SPM-MI": ("MIL", "Europe/Rome", "EUR"),
    "SSNLF": ("PNK", "America/New_York", "USD"),
    "SSW-JO": ("JNB", "Africa/Johannesburg", "ZAc"),
    "TEP-PA": ("PAR", "Europe/Paris", "EUR"),
    "TISG-MI": ("MIL", "Europe/Rome", "EUR"),
}

# What each defective frame must show: (reason, dates) with dates=None meaning "at least one".
# Rejections (quarantine) and flags (kept) by the defect's description.
EXPECTED = {
    # pence quoted as pounds on 14 of 23 sessions (0.1455 for 14.55): GBp, so the low bars go
    "AET-L-1d-100x-error": [("unit_switch_100x", None), ("stale_bar", None)],
    # rand quoted for cents from 2023-06-01 on (35 for 3500): ZAc, so the low bars go
    "SSW-JO-1d-100x-error": [
        (
            "unit_switch_100x",
            {
                "2023-06-01",
                "2023-06-02",
                "2023-06-05",
                "2023-06-06",
                "2023-06-07",
                "2023-06-08",
                "2023-06-09",
            },
        ),
    ],
    # 5:1 split on 2023-03-30 but 2023-03-29 already divided: a 1/5 move the day before
    "4063-T-1d-bad-stock-split": [("split_not_in_prices", {"2023-03-29"})],
    # 2023-05-09 carries the 0.4714 consolidation one week early, and reverts the day after
    "CNE-L-1d-bad-stock-split": [("split_not_in_prices", {"2023-05-09", "2023-05-10"})],
    # 2023-05-22 divided by 10 two days before the recorded 1:10 reverse split
    "MOB-ST-1d-bad-stock-split": [("split_not_in_prices", {"2023-05-22", "2023-05-23"})],
    # 1:10 split recorded on 2022-06-13, shown by the prices on 2022-06-20
    "SPM-MI-1d-bad-stock-split": [("split_not_in_prices", {"2022-06-20"})],
    # phantom dividends: the same amount again within days
    "SAND-1d-bad-div": [("dividend_repeated", {"2024-01-12", "2024-01-16"})],
    "TEP-PA-1d-bad-div": [("dividend_repeated", {"2023-04-20", "2023-04-21"})],
    "KEN-TA-1d-bad-div": [
        ("dividend_repeated", {"2022-01-18", "2022-01-19"}),
        # ... and Yahoo's adjusted close ignores the 2024-04-08 dividend (repaired in -fixed)
        ("provider_adjustment_mismatch", {"2024-04-08"}),
    ],
    # the 2023-03-30 dividend of 275 is 55 not split-adjusted for the 5:1 split that day
    "4063-T-1d-bad-div": [
        ("dividend_not_split_adjusted", {"2023-03-30"}),
        ("provider_adjustment_mismatch", {"2023-03-30"}),
    ],
    # Yahoo's adjusted close skips the 2024-07-08 dividend
    "1398-HK-1d-bad-div": [("provider_adjustment_mismatch", {"2024-07-08"})],
    # Yahoo's adjusted close is absurd (1e36, -inf) around the dividends
    "SSNLF-1d-bad-div": [("provider_adjustment_mismatch", None)],
    # capital gains counted twice in Yahoo's adjusted close at the 2025-12-18 distribution
    "DODFX-1d-cg-double-count": [("provider_adjustment_mismatch", {"2025-12-18"})],
}

# What the clean and -fixed frames legitimately still carry, and why.
LEGITIMATE = {
    # Hong Kong closed for typhoon Saola (2023-09-01) and a black rainstorm (2023-09-08), which
    # exchange_calendars' XHKG does not hold; on 2024-07-05 Yahoo sent a row with no prices
    # at all, which the load drops
    "1398-HK-1d-bad-div": {"missing_session"},
    "1398-HK-1d-bad-div-fixed": {"missing_session"},
    # yfinance repairs units, not staleness: 22 of 23 sessions repeat 14.55 with no volume
    "AET-L-1d-100x-error-fixed": {"stale_bar"},
    # a 53 % return of capital (with a share consolidation) on 2023-05-16: real, and large
    "CNE-L-1d-bad-stock-split": {"dividend_yield_implausible"},
    "CNE-L-1d-bad-stock-split-fixed": {"dividend_yield_implausible"},
    # an OTC line that rarely trades: long runs of repeated prices, and 50x jumps in 2001 and
    # 2009 with no recorded split that yfinance's repair leaves in place
    # ... and a year (2009-10-23 to 2010-10-08, 242 sessions) of rows with no prices
    "SSNLF-1d-bad-div-fixed": {"stale_bar", "split_like_jump_unrecorded", "missing_session"},
    "SSNLF-1d-bad-div": {"stale_bar", "split_like_jump_unrecorded", "missing_session"},
}


def frame_ticker(stem: str) -> str:
    return stem.split("-1d-")[0]


def frame_symbol(stem: str) -> str:
    """The Yahoo symbol a frame is replayed under: AET-L-1d-100x-error -> AET.L; a -fixed
    frame gets its own (AET.L-FIXED) so both versions sit in one warehouse."""
    symbol = frame_ticker(stem).replace("-", ".")
    if "-bad-div" in stem and symbol == "4063.T":  # two recordings of 4063.T
        symbol = "4063.T-DIV"
    return f"{symbol}-FIXED" if stem.endswith("-fixed") else symbol


def write_replay_folder(folder: Path) -> dict[str, str]:
    """Every recorded frame as <SYMBOL>.csv with its hand-written <SYMBOL>.info.json (the
    frames carry no metadata); returns symbol -> frame name."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = {}
    for path in sorted(FRAMES.glob("*.csv")):
        symbol = frame_symbol(path.stem)
        exchange, timezone, currency = TICKER_METADATA[frame_ticker(path.stem)]
        (folder / f"{symbol}.csv").write_bytes(path.read_bytes())
        (folder / f"{symbol}.info.json").write_text(
            json.dumps(
                {
                    "symbol": symbol,
                    "quoteType": "MUTUALFUND" if symbol.startswith("DODFX") else "EQUITY",
                    "currency": currency,
                    "exchange": exchange,
                    "exchangeTimezoneName": timezone,
                }
            )
        )
        frames[symbol] = path.stem
    return frames


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, dict[str, set[str]]]:
    """frame name -> finding (flag or check rejection) -> trade dates, after the real ingest
    (`yfinance --replay`, daily bars only) and a dbt build of the checks."""
    folder = tmp_path_factory.mktemp("bar_checks")
    frames = write_replay_folder(folder / "replay")
    env = warehouse_env(folder)
    ingest(
        env,
        "yfinance",
        "--replay",
        str(folder / "replay"),
        "--start",
        "2000-01-01",
        "--intervals",
        "1d",
    )
    dbt(env, "seed", "--select", "exchanges")
    dbt(
        env,
        "build",
        "--select",
        "+fct_flagged_bars",
        "+fct_quarantined_bars",
        "--indirect-selection",
        "cautious",
        "--exclude",
        "resource_type:unit_test",
    )
    rows = query(
        env,
        """
        select ticker, flag_reason, cast(trade_date as varchar) from marts.fct_flagged_bars
        union all
        select ticker, reject_reason, cast(trade_date as varchar)
        from intermediate.int_bars_1d_checked where reject_reason is not null
        """,
    )
    findings: dict[str, dict[str, set[str]]] = {}
    for symbol, reason, trade_date in rows:
        findings.setdefault(frames[symbol], {}).setdefault(reason, set()).add(trade_date)
    return findings


@pytest.mark.parametrize("frame", sorted(EXPECTED))
def test_known_defect_is_caught(checked, frame):
    found = checked.get(frame, {})
    for reason, dates in EXPECTED[frame]:
        assert reason in found, f"{frame}: no {reason} (found {sorted(found)})"
        if dates is not None:
            assert dates <= found[reason], (
                f"{frame}: {reason} on {sorted(found[reason])}, expected {sorted(dates)}"
            )


@pytest.mark.parametrize(
    "frame",
    sorted(p.stem for p in FRAMES.glob("*.csv") if p.stem.endswith(("-fixed", "-no-bad-divs"))),
)
def test_clean_and_fixed_frames_are_not_flagged(checked, frame):
    found = set(checked.get(frame, {}))
    assert found <= LEGITIMATE.get(frame, set()), (
        f"{frame}: unexpected {sorted(found - LEGITIMATE.get(frame, set()))}"
    )
