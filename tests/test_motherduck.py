"""MotherDuck by one setting, checked offline: the same code resolves an md: destination for
dlt and the motherduck profile for dbt; the token never shows; no token is a clear error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ingest.config import ConfigError, resolve_warehouse
from ingest.warehouse import dlt_destination
from tests.pipeline import DBT, REPO

TOKEN = "md-test-token-0123456789"


def test_motherduck_target_resolves_to_an_md_destination(monkeypatch) -> None:
    monkeypatch.setenv("MOTHERDUCK_TOKEN", TOKEN)
    monkeypatch.setenv("MOTHERDUCK_DATABASE", "analytics")
    warehouse = resolve_warehouse(target="motherduck")
    assert warehouse.is_motherduck and warehouse.path is None
    assert warehouse.describe() == "md:analytics"
    assert TOKEN not in repr(warehouse) and TOKEN not in warehouse.describe()
    destination = dlt_destination(warehouse)
    assert type(destination).__name__ == "motherduck"
    assert destination.config_params["credentials"] == f"md:analytics?motherduck_token={TOKEN}"


def test_motherduck_without_token_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("MOTHERDUCK_TOKEN", "  ")
    with pytest.raises(ConfigError, match="needs a token: export MOTHERDUCK_TOKEN"):
        resolve_warehouse(target="motherduck")


def dbt_parse(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = (
        {k: v for k, v in os.environ.items() if k != "MOTHERDUCK_TOKEN"}
        | {
            "DBT_PROFILES_DIR": str(REPO / "profiles"),
            "DBT_PROJECT_DIR": str(REPO / "dbt_project"),
            "DBT_TARGET_PATH": str(tmp_path / "target"),
            "DBT_LOG_PATH": str(tmp_path / "logs"),
            "DO_NOT_TRACK": "1",
            "WAREHOUSE_TARGET": "motherduck",
        }
        | env
    )
    return subprocess.run(
        [str(DBT), "parse", "--no-partial-parse"], cwd=REPO, env=environment,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_dbt_motherduck_profile_renders_with_a_token_and_not_without(tmp_path) -> None:
    with_token = dbt_parse(tmp_path, MOTHERDUCK_TOKEN=TOKEN)
    assert with_token.returncode == 0, with_token.stdout[-2000:]
    assert TOKEN not in with_token.stdout
    without = dbt_parse(tmp_path)
    assert without.returncode != 0
    assert "Env var required but not provided: 'MOTHERDUCK_TOKEN'" in without.stdout
