"""Shared SCIM 2.0 vocabulary: URNs, schema definitions and (later) client plumbing.

This package imports nothing else of the project, so every other package may use it.
"""
