"""Deployment tooling: files that Serverless and the ASK CLI consume, generated from the repo.

- :mod:`skill.deploy.requirements`: the Lambda requirements file, from ``pyproject.toml``.
- :mod:`skill.deploy.skill_package`: ``skill-package/`` models from ``interaction_models/``, and the
  rendered, deployable package (endpoint, privacy and terms URLs filled in) for ``ask deploy``.

Run as ``python -m skill.deploy`` (see docs/deploy.md). Never packaged into the Lambda.
"""

from __future__ import annotations
