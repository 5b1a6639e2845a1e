"""Benchmarks run from the command line (``python -m skill bench <name>``); never imported at runtime.

Each benchmark prints its figures beside a baseline measured in the same run.
"""

from __future__ import annotations
