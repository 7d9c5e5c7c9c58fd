"""Benchmarks: each runs alone with `python -m bench.NAME`, prints a table, writes bench/results/."""
