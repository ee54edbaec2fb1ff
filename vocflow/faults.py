"""Named crash points for the kill-and-resume tests; a no-op unless the variable is set.

``VOCFLOW_TEST_KILL_AT=NAME[:N]`` makes the N-th pass (default 1) through ``checkpoint(NAME)``
kill the process with SIGKILL, as a power cut or the OOM killer would: no ``finally`` block,
no atexit handler, no flush runs. tests/hardening/test_crash_resume.py kills the nightly flow
at each point and checks that a re-run leaves the store as an uninterrupted run does.

Points: ``flow:started``, ``ingest:batch-persisted`` (items written, bookmark not yet),
``ingest:bookmark-saved``, ``ingest:done``, ``embed:computed`` (vectors computed, not saved),
``embed:saved``, ``sentiment:computed``, ``sentiment:saved``, ``themes:computed``,
``themes:saved``, ``report:written`` (bundle on disk, artifacts and run record not yet),
``flow:finishing``.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

ENV_VAR = "VOCFLOW_TEST_KILL_AT"

_passes: Counter[str] = Counter()
_lock = threading.Lock()


def parse_target(value: str) -> tuple[str, int]:
    """Splits ``NAME[:N]`` into the point name and the pass number."""
    name, _, nth = value.rpartition(":")
    if name and nth.isdigit():
        return name, int(nth)
    return value, 1


def checkpoint(name: str) -> None:
    """Marks a crash point; kills the process here when the test variable names it.

    Args:
        name: The point's name (see the module docstring).
    """
    target = os.environ.get(ENV_VAR)
    if not target:
        return
    point, nth = parse_target(target)
    if point != name:
        return
    with _lock:
        _passes[name] += 1
        reached = _passes[name] == nth
    if reached:
        os.kill(os.getpid(), signal.SIGKILL)
