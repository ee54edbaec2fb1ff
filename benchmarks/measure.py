"""Runs one command in a fresh process and measures its wall time and peak memory.

Peak RSS is measured two ways: ``ru_maxrss`` from ``os.wait4`` (the largest single process
of the tree: the child, or any descendant it waited for) and the largest *sum* of RSS over
the child and all its descendants, sampled every ``interval`` seconds with psutil (what the
machine must hold at once, e.g. vocflow plus Prefect's temporary API server).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil


@dataclass
class Measurement:
    """One measured process.

    Attributes:
        seconds: Wall time from start to exit.
        peak_rss_mb: Largest sampled RSS sum of the process tree (MiB), at least
            ``maxrss_mb``.
        maxrss_mb: ``ru_maxrss`` of ``wait4`` (MiB): the largest single process.
        exit_code: The process's exit status.
        log: File with its stdout and stderr.
        command: The command line.
    """

    seconds: float
    peak_rss_mb: float
    maxrss_mb: float
    exit_code: int
    log: str
    command: list[str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        data = asdict(self)
        data["seconds"] = round(self.seconds, 2)
        data["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        data["maxrss_mb"] = round(self.maxrss_mb, 1)
        return data


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


def run_measured(
    command: list[str],
    log: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.2,
    timeout: float | None = None,
) -> Measurement:
    """Runs ``command`` to completion; output goes to ``log``.

    Args:
        command: Program and arguments.
        log: Where stdout and stderr are written.
        env: Environment (default: inherited).
        cwd: Working directory.
        interval: Seconds between RSS samples.
        timeout: Kill the process group after this many seconds.

    Returns:
        The measurement (a non-zero exit code is returned, not raised).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    peak = [0]
    done = threading.Event()
    with log.open("wb") as out:
        started = time.perf_counter()
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd,
            start_new_session=True,
        )  # fmt: skip
        watched = psutil.Process(child.pid)

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss(watched))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            if timeout is None:
                _, status, usage = os.wait4(child.pid, 0)
            else:
                deadline = started + timeout
                while True:
                    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                    if pid:
                        break
                    if time.perf_counter() > deadline:
                        os.killpg(child.pid, 9)
                        _, status, usage = os.wait4(child.pid, 0)
                        break
                    time.sleep(0.1)
        finally:
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
        child.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(
        seconds=seconds,
        # Sampling can miss a short spike that ru_maxrss (exact, one process) saw.
        peak_rss_mb=max(peak[0] / 2**20, usage.ru_maxrss / 1024),
        maxrss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        exit_code=child.returncode,
        log=str(log),
        command=command,
    )
