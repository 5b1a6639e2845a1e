"""Lambda entry point for serverless-wsgi (``custom.wsgi.app: skill.wsgi.app`` in serverless.yml).

The app is built once per Lambda container, at import, from the ``REFLECT_*`` environment that
serverless.yml sets; serverless-wsgi's ``wsgi_handler.handler`` then feeds it each API Gateway event.
"""

from __future__ import annotations

from flask import Flask

from skill.service import create_app

app: Flask = create_app()
