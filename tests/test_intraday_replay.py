"""`python -m ingest replay`: one session's minutes landed in arrival order and transformed
in micro-batches give the same minute marts as the batch build; the clock, the batching and
the latency figures are checked on a fake clock."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from ingest.config import Warehouse
from ingest.intraday.command import batch_minutes_for
from ingest.intraday.feed import Arrival, SessionFeed
from ingest.intraday.replay import BatchRecord, Lander, ReplayStats, percentile, run_replay
from tests.pipeline import REPO, dbt, ingest, warehouse_env

OPEN = datetime(2025, 12, 31, 14, 30, tzinfo=UTC)


def bars(minute: int, close: float = 10.0, tickers: tuple[str, ...] = ("AAA",)) -> pd.DataFrame:
    ts = OPEN + timedelta(minutes=minute)
    return pd.DataFrame(
        {
            "ticker": list(tickers),
            "ts": [ts] * len(tickers),
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "volume": 100,
            "adjusted_as_of": date(2025, 12, 31),
        }
    )


def feed(minutes: int) -> SessionFeed:
    arrivals = [Arrival(at=OPEN + timedelta(minutes=m + 1), bars=bars(m)) for m in range(minutes)]
    return SessionFeed(session=date(2025, 12, 31), arrivals=arrivals)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0
    assert percentile([3.0], 95) == 3.0


def test_at_infinite_speed_batches_are_batch_minutes_long() -> None:
    landed: list[int] = []
    stats = run_replay(
        feed(12),
        lambda chunk: landed.append(len(chunk)) or sum(len(a.bars) for a in chunk),
        lambda: 0.0,
        speed=math.inf,
        batch_minutes=5,
    )
    assert landed == [5, 5, 2]
    assert [b.minutes for b in stats.batches] == [5, 5, 2]
    assert stats.minutes_landed == 12 and stats.bars_landed == 12
    assert len(stats.latencies) == 12


def timed_replay(
    minutes: int, *, batch_minutes: int, land_seconds: float, dbt_seconds: float
) -> ReplayStats:
    """A replay at 60x on the fake clock, each landing and each dbt batch taking the time
    given."""
    clock = FakeClock()

    def land(chunk: list[Arrival]) -> int:
        clock.now += land_seconds
        return len(chunk)

    def transform() -> float:
        clock.now += dbt_seconds
        return dbt_seconds

    return run_replay(
        feed(minutes),
        land,
        transform,
        speed=60,
        batch_minutes=batch_minutes,
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_slow_batch_makes_the_next_one_larger_and_latency_is_measured() -> None:
    # 60x: a minute a second. Landing takes 0.5 s, dbt 8 s: after the first batch of 5
    # minutes, 8 more minutes are due, landed together, and the backlog stays bounded.
    stats = timed_replay(60, batch_minutes=5, land_seconds=0.5, dbt_seconds=8.0)
    sizes = [b.minutes for b in stats.batches]
    assert sizes[0] == 5 and max(sizes) >= 8, sizes
    assert sum(sizes) == 60
    # The first batch's minutes landed one by one at 0, 1, ... 4 s (plus landing), all
    # queryable when its dbt run ended: the first minute waited longest.
    assert max(stats.latencies) == pytest.approx(12.0, abs=1.0)
    assert min(stats.latencies) == pytest.approx(8.0, abs=0.01)
    assert stats.kept_up and stats.backlog_growth() <= 1, stats.backlog_growth()
    assert "kept up" in stats.summary_lines()[-1]


def test_a_batch_per_landed_minute_waits_for_no_other_minute() -> None:
    """The default in real time (one minute a batch): a minute is queryable one landing and
    one dbt run after it is due, and batches grow by themselves to what lands while dbt runs;
    with batches of 5 minutes the first minutes of each also wait for four more to land."""

    def replay(batch_minutes: int) -> ReplayStats:
        return timed_replay(120, batch_minutes=batch_minutes, land_seconds=0.2, dbt_seconds=2.5)

    one, five = replay(1), replay(5)
    assert max(one.latencies) == pytest.approx(2.5, abs=0.01)  # the dbt run, nothing else
    sizes = [b.minutes for b in one.batches[1:-1]]
    assert set(sizes) <= {2, 3, 4} and sum(b.minutes for b in one.batches) == 120, sizes
    assert one.kept_up
    assert max(five.latencies) > 6.0  # four more minutes (4 s at 60x) before its batch ran
    assert batch_minutes_for(60.0) == 1 and batch_minutes_for(math.inf) == 5


MEASURED = json.loads((REPO / "tests/data/replay/replay_60x_batches_measured.json").read_text())


def measured(scale: str, backlogs: list[int] | None = None) -> ReplayStats:
    """A replay's stats with the batches a 60x run measured (docs/benchmarks.md); `backlogs`
    replaces their backlogs."""
    run = MEASURED[scale]
    stats = ReplayStats(run["session"], run["tickers"], 60, run["minutes_total"], run["bars_total"])
    for i, b in enumerate(run["batches"]):
        backlog = b["backlog"] if backlogs is None else backlogs[i]
        at = datetime.fromisoformat(b["simulated_at"])
        stats.batches.append(BatchRecord(at, b["minutes"], 1.0, 1.0, backlog))
    return stats


@pytest.mark.parametrize(("scale", "gained", "shown"), [("S", 2.33, "+2.3"), ("M", 3.05, "+3.1")])
def test_a_backlog_that_wanders_but_does_not_grow_kept_up(scale, gained, shown) -> None:
    # The two measured 60x runs: the last third's largest backlog was above the first two
    # thirds' by one minute (S, 8 vs 7) and three (M, 17 vs 14), which the previous rule
    # called "fell behind"; their trend gains 2.3 and 3.1 minutes over the session, less than
    # one batch (5 and 11 minutes).
    stats = measured(scale)
    assert stats.backlog_growth() == pytest.approx(gained, abs=0.01)
    assert stats.kept_up
    summary = stats.summary_lines()[-1]
    assert f"gained {shown} over the session on its trend: kept up" in summary
    assert stats.to_json()["backlog_growth_minutes"] == pytest.approx(gained, abs=0.01)


def test_a_backlog_that_grows_with_the_session_fell_behind() -> None:
    # M's batch times, but a replay at an effective 40x for 60x: a third of each simulated
    # minute is not landed when due, so the backlog climbs by a third of the minutes passed
    run = MEASURED["M"]["batches"]
    start = datetime.fromisoformat(run[0]["simulated_at"])
    climbing = [
        round((datetime.fromisoformat(b["simulated_at"]) - start).total_seconds() / 60 / 3)
        for b in run
    ]
    stats = measured("M", climbing)
    assert stats.backlog_growth() == pytest.approx(391 / 3, rel=0.05)
    assert not stats.kept_up
    assert "fell behind" in stats.summary_lines()[-1]
    # one slow batch in a steady run is not falling behind, however late in the session
    spike = [b["backlog"] for b in run]
    spike[-3] = 40
    assert measured("M", spike).kept_up


def test_a_restated_bar_replaces_the_earlier_one_through_the_merge(tmp_path) -> None:
    path = tmp_path / "replay.duckdb"
    lander = Lander(Warehouse(target="ci", path=path), tmp_path / "dlt")
    lander.land([Arrival(at=OPEN, bars=bars(0, close=10.0, tickers=("AAA", "BBB")))])
    lander.land([Arrival(at=OPEN, bars=bars(0, close=11.0, tickers=("AAA",)))])
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select ticker, close from raw_yfinance.bars_1m order by ticker"
        ).fetchall()
    assert rows == [("AAA", 11.0), ("BBB", 10.0)]


def replay_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", "replay", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "0"], "not a speed"),
        (["--batch-minutes", "0"], "not a positive int: '0'"),
        (["--session", "2025-13-01"], "not a date"),
    ],
)
def test_bad_options_are_one_line_usage_errors(args: list[str], message: str) -> None:
    result = replay_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_missing_source_is_one_line(tmp_path) -> None:
    result = replay_cli("--from-warehouse", str(tmp_path / "none.duckdb"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


MINUTE_MARTS = {
    "marts.fct_bars_1m": "session_date",
    "marts.fct_bars_5m": "session_date",
    "marts.fct_bars_15m": "session_date",
    "marts.fct_bars_60m": "session_date",
    "marts.fct_intraday_features": "session_date",
    "marts.fct_quarantined_bars": "trade_date",
    "marts.fct_intraday_alerts": "session_date",
}


def session_rows(path: str, table: str, column: str, day: str) -> list[tuple]:
    with duckdb.connect(path, read_only=True) as con:
        columns = [r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] != "load_id"]
        return con.execute(
            f"select {', '.join(columns)} from {table} where {column} = ? order by all", [day]
        ).fetchall()


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


@pytest.mark.e2e
def test_micro_batches_give_the_batch_result_row_for_row(tmp_path) -> None:
    env = warehouse_env(tmp_path / "source")
    ingest(env, "sample", "--as-of", "2025-12-31", "--tickers", "SPY,JPM,MSFT",
           "--daily-years", "1", "--minute-sessions", "3")  # fmt: skip
    dbt(env, "seed")
    dbt(env, "run")  # the batch: every model, the session included
    replayed = tmp_path / "replay" / "warehouse.duckdb"
    replay = ["replay", "--speed", "max", "--batch-minutes", "100", "--plain"]
    output = ingest(env, *replay, "--replay-warehouse", str(replayed))
    assert "replay of 2025-12-31" in output and "391/391 minutes" in output, output
    assert "landing -> queryable: p50" in output
    assert "alerts: " in output and "vwap_cross_up" in output, output
    for table, column in MINUTE_MARTS.items():
        batch = session_rows(env["WAREHOUSE_PATH"], table, column, "2025-12-31")
        micro = session_rows(str(replayed), table, column, "2025-12-31")
        assert batch, f"{table} has no rows for the session"
        assert len(batch) == len(micro), f"{table}: {len(batch)} rows, replay {len(micro)}"
        for x, y in zip(batch, micro, strict=True):
            assert all(same(a, b) for a, b in zip(x, y, strict=True)), f"{table}: {x} != {y}"
    # The source was only read: its session is still whole.
    with duckdb.connect(env["WAREHOUSE_PATH"], read_only=True) as con:
        (rows,) = con.execute(
            "select count(*) from raw_yfinance.bars_1m where ts >= '2025-12-31 14:30+00'"
        ).fetchone()
    assert rows == 1169


RECORDED = REPO / "tests" / "data" / "yfinance_replay"


def write_minute_recording(path, days: list[str], start_price: float) -> pd.DataFrame:
    """A `Ticker.history(interval="1m", auto_adjust=False, actions=True).to_csv()` frame of
    whole New York sessions (09:30-15:59 at -04:00 in August), as a user would save one."""
    rows = []
    price = start_price
    for day in days:
        for minute in range(390):
            at = pd.Timestamp(f"{day} 09:30:00-04:00") + pd.Timedelta(minutes=minute)
            close = round(price * (1 + 0.0004 * ((minute * 7919) % 11 - 5)), 4)
            rows.append(
                {
                    "Datetime": at.isoformat(sep=" "),
                    "Open": price,
                    "High": max(price, close) + 0.01,
                    "Low": min(price, close) - 0.01,
                    "Close": close,
                    "Adj Close": close,
                    "Volume": 1000 + 10 * minute,
                    "Dividends": 0.0,
                    "Stock Splits": 0.0,
                }
            )
            price = close
    frame = pd.DataFrame(rows)
    frame.to_csv(path, index=False)
    return frame


def recorded_folder(tmp_path, with_minutes: bool = True):
    folder = tmp_path / "recorded"
    folder.mkdir()
    frames = {}
    for symbol, price in (("CALM", 71.5), ("EWG", 30.2)):
        for suffix in (".csv", ".info.json"):
            (folder / f"{symbol}{suffix}").write_bytes(
                (RECORDED / f"{symbol}{suffix}").read_bytes()
            )
        if with_minutes:
            frames[symbol] = write_minute_recording(
                folder / f"{symbol}.1m.csv", ["2024-08-20", "2024-08-21"], price
            )
    return folder, frames


def test_a_folder_without_minute_recordings_is_one_line(tmp_path) -> None:
    folder, _ = recorded_folder(tmp_path, with_minutes=False)
    result = replay_cli("--from-replay", str(folder), "--replay-warehouse", str(tmp_path / "r"))
    assert result.returncode == 1, result.stderr
    assert "holds no minute recordings" in result.stderr and "1m.csv" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    both = replay_cli("--from-replay", str(folder), "--from-warehouse", str(tmp_path / "w"))
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


@pytest.mark.e2e
def test_recorded_minute_frames_replay_through_the_replay_seam(tmp_path) -> None:
    """--from-replay DIR: the history up to the day before comes from DIR's recordings, the
    session's minutes arrive from DIR/<SYMBOL>.1m.csv through yfinance's history call."""
    folder, frames = recorded_folder(tmp_path)
    env = warehouse_env(tmp_path / "unused")  # dbt's paths; the replay writes its own file
    replayed = tmp_path / "replay" / "warehouse.duckdb"
    stats_path = tmp_path / "stats.json"
    output = ingest(env, "replay", "--from-replay", str(folder), "--replay-warehouse",
                    str(replayed), "--speed", "max", "--minutes", "30", "--batch-minutes", "30",
                    "--plain", "--stats-json", str(stats_path))  # fmt: skip
    assert "replay of 2024-08-21" in output and "30/30 minutes, 60 bars of 2 tickers" in output
    stats = json.loads(stats_path.read_text())
    assert stats["sliced"] and stats["session_minutes"] == 390 and len(stats["batches"]) == 1
    with duckdb.connect(str(replayed), read_only=True) as con:
        raw = con.execute(
            "select ticker, cast(timezone('America/New_York', ts) as date) as day, count(*), "
            "max(close) from raw_yfinance.bars_1m group by all order by all"
        ).fetchall()
        (last_daily,) = con.execute("select max(trade_date) from raw_yfinance.bars_1d").fetchone()
        (traded,) = con.execute(
            "select count(*) from marts.fct_bars_1m where ticker = 'CALM' "
            "and session_date = '2024-08-21' and not is_filled"
        ).fetchone()
    expected = []
    for symbol, frame in sorted(frames.items()):
        day = frame["Datetime"].str[:10]
        for d, rows in (("2024-08-20", frame[day == "2024-08-20"]),
                        ("2024-08-21", frame[day == "2024-08-21"].head(30))):  # fmt: skip
            expected.append((symbol, date.fromisoformat(d), len(rows), rows["Close"].max()))
    assert raw == expected
    assert last_daily == date(2024, 8, 20)  # the history as loaded the day before
    assert traded == 30
