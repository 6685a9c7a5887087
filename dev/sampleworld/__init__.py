"""The sample world: deterministic offline data with the shapes of the real sources.

Development code (dev/ of the repository), not part of the installed `ingest` package:

- `sampleworld.market`: a market answering as Yahoo does (`SampleMarket`), with planted defects;
- `sampleworld.brokerage`: accounts and transactions that trade it, and their CSV exports;
- `sampleworld.mock_broker`: a broker REST API serving them (`python -m sampleworld.mock_broker`).

`python -m ingest sample` loads the first two through the project's real sources.
"""
