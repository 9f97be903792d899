"""Run natasha's small NER network on one BLAS thread.

numpy's OpenBLAS starts its thread pool for the NER's matrix products; on a busy 2-core host the
threads wait on each other and a 0.5 ms inference takes 30-40 ms (measured, see
docs/extraction.md). The pool size is set through OpenBLAS's own C entry point (what
threadpoolctl does) and restored afterwards, so the rest of the process keeps its threads.
Where no OpenBLAS is loaded (another BLAS, or none) this is a no-op.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

_lock = threading.Lock()
_PREFIXES = ("scipy_openblas", "openblas")
_SUFFIXES = ("64_", "")


@lru_cache(maxsize=1)
def _openblas() -> tuple[Any, Any] | None:
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if setter is not None and getter is not None:
                    getter.restype = ctypes.c_int
                    return setter, getter
    return None


@contextmanager
def single_threaded() -> Iterator[None]:
    funcs = _openblas()
    if funcs is None:
        yield
        return
    setter, getter = funcs
    with _lock:
        before = getter()
        setter(1)
        try:
            yield
        finally:
            setter(before)
