"""Benchmark suite (scripts, not tests): python benchmarks/run.py."""
