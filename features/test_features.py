"""Collect every scenario under features/ (okta/, entra/, sync/) as a pytest test."""

from pathlib import Path

from pytest_bdd import scenarios

scenarios(".", features_base_dir=str(Path(__file__).parent))
