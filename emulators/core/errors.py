"""Errors shared by the emulator building blocks."""

from __future__ import annotations


class ConfigurationError(ValueError):
    """A directory, mapping or profile that cannot be used; raised before any request is sent."""


class DirectoryError(ConfigurationError):
    """A directory file or a directory change that is inconsistent (unknown id, bad status, ...)."""
