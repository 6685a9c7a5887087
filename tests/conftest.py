"""Shared fixtures: a pinned sample world whose minute window spans Thanksgiving 2025,
the early close the day after, and the Christmas Eve early close."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from sampleworld.market import SampleMarket

AS_OF = date(2025, 12, 31)
MINUTE_SESSIONS = 25  # 2025-11-25 .. 2025-12-31


@pytest.fixture(scope="session")
def market() -> SampleMarket:
    return SampleMarket(AS_OF, daily_years=2, minute_sessions=MINUTE_SESSIONS, seed=7)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """No test reads the developer's warehouse or dlt folder by accident."""
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("INGEST_PIPELINES_DIR", str(tmp_path / "dlt"))
    monkeypatch.delenv("WAREHOUSE_TARGET", raising=False)
    monkeypatch.delenv("MOTHERDUCK_TOKEN", raising=False)
    monkeypatch.setenv("INGEST_PROGRESS", "off")  # no progress lines in captured output


# -- the sample build shared by the test files that only read a fully built sample --------

SAMPLE_AS_OF = "2026-11-20"  # the Makefile's TEST_AS_OF: 20 tickers, 3 years, 20 minute sessions
# `make test` loads and builds that sample before pytest (data/ci/, its log in the CI output)
# and names it here; without it (pytest run by hand) the first test that asks builds one.
SAMPLE_BUILD_VARIABLE = "TEST_SAMPLE_WAREHOUSE"


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a warehouse holding the sample as of SAMPLE_AS_OF after a whole
    `dbt build` (every test passed). One per test run, whatever the number of xdist workers:
    the first worker to ask builds it under a file lock, the others wait for it. Read it only
    (read_only connections); a test that writes takes `copy_of_sample_build`."""
    from filelock import FileLock

    from tests.pipeline import dbt, ingest, query, warehouse_env

    given = os.environ.get(SAMPLE_BUILD_VARIABLE)
    if given:
        path = Path(given).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"{SAMPLE_BUILD_VARIABLE}={given}: no such warehouse file")
        env = warehouse_env(path.parent) | {"WAREHOUSE_PATH": str(path)}
    else:
        # Under xdist every worker has its own base temp; their parent is the run's.
        shared = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            shared = shared.parent
        folder = shared / "sample_build"
        env = warehouse_env(folder)
        with FileLock(str(shared / "sample_build.lock")):
            done, failed = folder / "built", folder / "failed"
            if failed.exists():
                pytest.fail(f"the shared sample build failed elsewhere:\n{failed.read_text()}")
            if not done.exists():
                folder.mkdir(exist_ok=True)
                try:
                    ingest(env, "sample", "--as-of", SAMPLE_AS_OF)
                    dbt(env, "build")
                except BaseException as error:
                    failed.write_text(str(error)[-4000:])
                    raise
                done.touch()
    found = query(env, "select max(trade_date) from marts.fct_price_features_daily")[0][0]
    if str(found) != SAMPLE_AS_OF:
        raise pytest.UsageError(
            f"{env['WAREHOUSE_PATH']} holds data through {found}, not the sample as of "
            f"{SAMPLE_AS_OF} after a dbt build"
        )
    return env


@pytest.fixture(scope="module")
def copy_of_sample_build(sample_build, tmp_path_factory) -> dict[str, str]:
    """A private copy of the shared sample build (the warehouse file only: dlt restores a
    pipeline's state from the warehouse), for a test file that writes."""
    from tests.pipeline import warehouse_env

    env = warehouse_env(tmp_path_factory.mktemp("sample_copy"))
    shutil.copyfile(sample_build["WAREHOUSE_PATH"], env["WAREHOUSE_PATH"])
    return env


# -- the order the test files start in ------------------------------------------------------

# Seconds of the slowest test files' fixtures and tests on CI (fresh clone, one worker,
# 2026-12-01: the reports build and browser 300, the bench smoke 101, ...). `make test` hands
# files to two workers in collection order (--no-loadscope-reorder: xdist would otherwise
# order them by their number of tests), a file as it frees: the longest first, so that the
# two finish together instead of one starting the reports build last.
SLOW_FILES = {
    "test_reports.py": 300,
    "test_bench.py": 110,
    "test_incremental.py": 130,
    "test_incremental_daily.py": 100,
    "test_intraday_replay.py": 90,
    "test_pipeline_e2e.py": 70,
    "test_portfolio.py": 70,
    "test_yahoo_only.py": 60,
    "test_reliability.py": 60,
    "test_minute_marts_reference.py": 40,
    "test_time_zones.py": 150,  # not a CI figure: 281 s on the shared 2-core box at load 9
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow files first, longest first; the others after them, in their usual order."""
    items.sort(key=lambda item: -SLOW_FILES.get(item.path.name, 0))
