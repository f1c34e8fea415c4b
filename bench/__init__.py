"""Benchmarks that print figures (not tests): `make bench`, see bench/README.md."""
