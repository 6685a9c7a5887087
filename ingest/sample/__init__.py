"""Deterministic offline sample data with the shapes of the real sources."""
