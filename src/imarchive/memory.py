"""Keeping peak RSS near what is really in use.

Arrow's default allocator (jemalloc/mimalloc) and glibc's per-thread arenas keep freed
chunks around: with them peak RSS roughly doubles on large inputs. Ingest switches to
the system allocator with two arenas, and hands freed heap pages back to the system
after each large step (``malloc_trim``)."""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

M_ARENA_MAX = -8

_LIBC: list[ctypes.CDLL | None] = []


def _libc() -> ctypes.CDLL | None:
    if not _LIBC:
        name = ctypes.util.find_library("c")
        try:
            _LIBC.append(ctypes.CDLL(name) if name else None)
        except OSError:
            _LIBC.append(None)
    return _LIBC[0]


def bound_memory() -> None:
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    libc = _libc()
    mallopt: Callable[[int, int], int] | None = getattr(libc, "mallopt", None)
    if mallopt is not None:
        mallopt(M_ARENA_MAX, 2)


def release_free_memory() -> None:
    libc = _libc()
    trim: Callable[[int], int] | None = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim(0)
