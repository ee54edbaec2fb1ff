"""Serves the nightly deployment: a cron schedule plus ad-hoc runs from the Prefect UI."""

from __future__ import annotations

from prefect.schedules import Cron

from flows.nightly import nightly
from vocflow.settings import load_settings


def serve_nightly() -> None:
    """Registers the ``vocflow-nightly/<name>`` deployment and runs its scheduled runs."""
    settings = load_settings()
    nightly.serve(
        name=settings.schedule.deployment_name,
        schedules=[Cron(settings.schedule.cron, timezone=settings.schedule.timezone)],
        description=(
            "Nightly Voice-of-Customer run. Start an ad-hoc run with 'Custom run' to pick "
            "sources, a date window, languages, the minimum theme size and top N."
        ),
        tags=["vocflow", "nightly"],
    )
