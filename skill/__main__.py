"""Entry point for ``python -m skill``."""

from __future__ import annotations

import sys

from skill.cli import main

sys.exit(main())
