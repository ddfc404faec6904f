"""`aup serve` caps glibc's malloc arenas, so large responses on many worker threads do not pile up memory."""

from __future__ import annotations

import platform

import pytest

from aup.serve import limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt(M_ARENA_MAX) is a glibc setting")
def test_arena_cap_is_accepted_by_glibc() -> None:
    assert limit_malloc_arenas() is True
