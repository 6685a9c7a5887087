"""Settings shared by every ingest command: where the warehouse is and which target.

The same variables drive `profiles/profiles.yml`, so ingest and dbt always agree
on the warehouse they read and write.

- WAREHOUSE_TARGET: dev, ci or motherduck (default dev)
- WAREHOUSE_PATH: DuckDB file for dev and ci (default <repo>/data/warehouse.duckdb)
- MOTHERDUCK_DATABASE: database for the motherduck target (default market_warehouse)
- MOTHERDUCK_TOKEN: MotherDuck access token (required by the motherduck target)
- INGEST_PIPELINES_DIR: dlt's local working folder (default <repo>/data/dlt); dlt also
  keeps its state in the warehouse, so deleting the folder loses nothing
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
DEFAULT_WAREHOUSE_PATH = DATA_DIR / "warehouse.duckdb"
DEFAULT_MOTHERDUCK_DATABASE = "market_warehouse"
TARGETS = ("dev", "ci", "motherduck")

# Schemas of the raw layer (the contract in shared/DESIGN.md).
RAW_YFINANCE = "raw_yfinance"
RAW_BROKERAGE = "raw_brokerage"
RAW_INGEST = "raw_ingest"


class ConfigError(Exception):
    """A setting is missing or wrong; the message is shown to the user as one line."""


@dataclass(frozen=True)
class Warehouse:
    """Where the raw tables go: a local DuckDB file or a MotherDuck database."""

    target: str
    path: Path | None = None
    motherduck_database: str | None = None
    motherduck_token: str | None = field(default=None, repr=False)  # a secret: never printed

    @property
    def is_motherduck(self) -> bool:
        return self.target == "motherduck"

    def describe(self) -> str:
        if self.is_motherduck:
            return f"md:{self.motherduck_database}"
        return str(self.path)


def resolve_warehouse(
    target: str | None = None, path: str | os.PathLike[str] | None = None
) -> Warehouse:
    """Build the warehouse settings from explicit arguments, then the environment."""
    target = target or os.environ.get("WAREHOUSE_TARGET") or "dev"
    if target not in TARGETS:
        raise ConfigError(f"unknown target {target!r}: choose one of {', '.join(TARGETS)}")
    if target == "motherduck":
        token = os.environ.get("MOTHERDUCK_TOKEN", "").strip()
        if not token:
            raise ConfigError(
                "the motherduck target needs a token: export MOTHERDUCK_TOKEN=<your token> "
                "(from the MotherDuck web UI, Settings > Access tokens)"
            )
        database = os.environ.get("MOTHERDUCK_DATABASE") or DEFAULT_MOTHERDUCK_DATABASE
        return Warehouse(target=target, motherduck_database=database, motherduck_token=token)
    raw_path = path or os.environ.get("WAREHOUSE_PATH") or DEFAULT_WAREHOUSE_PATH
    return Warehouse(target=target, path=Path(raw_path).expanduser().resolve())


def pipelines_dir() -> Path:
    """dlt's local working folder; kept under data/ so `make clean` removes it.

    Not a folder whose path holds a single quote: dlt's DuckDB loader pastes the path of
    every load file into its SQL (`read_parquet('<path>')`), so a quote there is a syntax
    error at best and runs the rest of the name as SQL at worst.
    """
    folder = Path(os.environ.get("INGEST_PIPELINES_DIR") or DATA_DIR / "dlt").resolve()
    if "'" in str(folder):
        raise ConfigError(
            f"dlt's working folder {folder} has a single quote in its path, which dlt's "
            "DuckDB loader would paste into SQL: set INGEST_PIPELINES_DIR to a folder "
            "without one"
        )
    return folder
