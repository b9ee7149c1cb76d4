"""Benchmarks of lineblocs-jobs (not tests): `uv run python -m benchmarks` or `make bench`.

Results and how to read them are in docs/benchmarks.md.
"""
