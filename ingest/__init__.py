"""Ingestion for the market-data warehouse: dlt sources that load raw tables into DuckDB."""

__all__ = ["__version__"]
__version__ = "0.1.0"
