"""Benchmarks run only under ``make bench`` (RUN_BENCH=1); ``make test`` collects tests/ and skips them."""

import os

collect_ignore_glob = ["test_*.py"] if os.environ.get("RUN_BENCH") != "1" else []
