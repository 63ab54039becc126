"""Access to the running analyzer's parts from inside a request."""

from __future__ import annotations

from flask import current_app

from analyzer.services import Services


def services() -> Services:
    return current_app.extensions["ai_logs"]
