"""Benchmarks that print figures (not tests): `make bench`, see bench/README.md."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"  # each run's table, EXPLAIN plans, logs and collected static
