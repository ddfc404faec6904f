"""The reference server under test, as the root conftest's in-memory app and token."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask


@pytest.fixture
def reference(app: Flask, token: str) -> tuple[Any, str]:
    return app, token
