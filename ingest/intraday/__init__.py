"""Intraday replay: one session's minute bars landed in arrival order and transformed in
micro-batches by the same dbt models as the daily batch (`python -m ingest replay`)."""
