"""Benchmarks of Defuse's hot paths, each measured beside its floor (see bench/run_all.py)."""
