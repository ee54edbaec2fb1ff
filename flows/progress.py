"""Progress of long stages: Prefect log lines always, a progress bar when a person watches."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from tqdm import tqdm


def progress_reporter(
    stage: str, logger: logging.Logger | logging.LoggerAdapter, every: float = 0.1
) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """Creates a ``(done, total)`` callback for a stage and a function that closes it.

    Logs at every ``every`` fraction of the work (so the Prefect UI shows progress) and drives
    a tqdm bar on stderr when it is a terminal (so ``vocflow run`` shows one).

    Args:
        stage: Stage name shown in logs and on the bar.
        logger: Prefect run logger (or any logger).
        every: Fraction of the total between two log lines.

    Returns:
        The progress callback and a ``close`` function.
    """
    state: dict[str, object] = {"bar": None, "next_log": 0.0}

    def update(done: int, total: int) -> None:
        bar = state["bar"]
        if bar is None and sys.stderr.isatty():
            bar = tqdm(total=total, desc=stage, unit="text", leave=False, file=sys.stderr)
            state["bar"] = bar
        if isinstance(bar, tqdm):
            bar.update(done - bar.n)
        fraction = done / total if total else 1.0
        next_log = state["next_log"]
        if isinstance(next_log, float) and (fraction >= next_log or done >= total):
            logger.info("%s: %d/%d (%.0f%%)", stage, done, total, 100 * fraction)
            state["next_log"] = fraction + every

    def close() -> None:
        bar = state["bar"]
        if isinstance(bar, tqdm):
            bar.close()

    return update, close
