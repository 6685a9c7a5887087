"""The commands of `python -m ingest`, one module each: `add_parser(sub, parents)` declares
its options beside `run(args, warehouse)`, its handler. ingest/cli.py builds the parser from
them and runs the chosen one under the warehouse's writer lock. The replay and session-check
commands live with their code (ingest/intraday/command.py, ingest/session_check.py).
"""
