"""Serves the vocflow deployments: the nightly cron run and an ad-hoc re-run for a slice.

Both deployments run the same flow; they differ in schedule and defaults. In the Prefect UI
the parameter form shows each field's description (``flows.params.RunParameters``).
"""

from __future__ import annotations

from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.nightly import nightly
from flows.params import RunParameters
from vocflow.settings import Settings, load_settings

RERUN_DEPLOYMENT = "rerun-slice"

NIGHTLY_DESCRIPTION = """\
Nightly Voice-of-Customer run: pulls new feedback from every enabled source, embeds and
classifies it, refits or extends the themes and ranks pain points by NPS impact. Writes
`reports/<run-id>/` and `reports/latest/` (HTML, Markdown, CSV, Parquet) and attaches a
Markdown summary, the pain-point table and a link to the HTML report to the run.

Use **Custom run** to change sources, the date window, languages, the minimum theme size or
top N for one run; empty fields fall back to `configs/vocflow.yaml`."""

RERUN_DESCRIPTION = """\
Ad-hoc re-analysis of one slice of the stored feedback, without pulling new data first
(`ingest` is off by default). Pick the slice in the run form:

- **sources**: e.g. `["demo-nsmc"]` for one source (empty = all enabled sources);
- **languages**: `ko` and/or `en`;
- **since** / **until** (inclusive, UTC) for a fixed window, or **window_days** for the last
  N days (empty = the configured window).

The run name says which slice ran; the report's changes are compared only with earlier runs
of the same slice."""


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The nightly cron deployment and the ad-hoc slice re-run, ready to serve.

    Args:
        settings: Loaded settings (schedule and deployment name).

    Returns:
        ``vocflow-nightly/<schedule.deployment_name>`` (cron) and
        ``vocflow-nightly/rerun-slice`` (no schedule, no ingestion by default).
    """
    rerun_defaults = RunParameters(ingest=False)
    # to_deployment is sync here (no running event loop); the cast narrows its async union.
    return [
        cast(
            RunnerDeployment,
            nightly.to_deployment(
                name=settings.schedule.deployment_name,
                schedules=[Cron(settings.schedule.cron, timezone=settings.schedule.timezone)],
                description=NIGHTLY_DESCRIPTION,
                tags=["vocflow", "nightly"],
            ),
        ),
        cast(
            RunnerDeployment,
            nightly.to_deployment(
                name=RERUN_DEPLOYMENT,
                description=RERUN_DESCRIPTION,
                parameters={"params": rerun_defaults.model_dump(mode="json")},
                tags=["vocflow", "ad-hoc"],
            ),
        ),
    ]


def serve_nightly() -> None:
    """Registers both deployments and runs their scheduled and ad-hoc runs until stopped."""
    serve(*deployments(load_settings()))
