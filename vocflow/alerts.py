"""Emerging-issue alerts as Prefect-ready events (built here, emitted by the flow).

The nightly flow emits one event per emerging theme (new or spiking, ``outputs.trends``):

    event:    vocflow.theme.emerging
    resource: {"prefect.resource.id": "vocflow.theme.<label slug>", "prefect.resource.name":
               <label>, "vocflow.run-id": <run id>, "vocflow.status": "new" | "spike"}
    payload:  rank, theme id, label, counts, expected count, rate ratio, p-value, negative
              share, pain score, the reason line and the trend windows

A Prefect automation turns them into notifications, e.g. a trigger

    {"match": {"prefect.resource.id": "vocflow.theme.*"}, "expect": ["vocflow.theme.emerging"],
     "posture": "Reactive", "threshold": 1}

with a "send notification" action to a Slack or e-mail block. The thresholds live in
``analysis.alert_*`` settings; ``analysis.alerts_enabled: false`` turns the events off (the
report section stays). This module does not import Prefect: it only builds the event fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from outputs.markdown import escape_cell
from outputs.report import Report

EVENT_NAME = "vocflow.theme.emerging"


@dataclass(frozen=True)
class AlertEvent:
    """The arguments of one ``prefect.events.emit_event`` call."""

    event: str
    resource: dict[str, str]
    payload: dict[str, Any] = field(default_factory=dict)


def _slug(label: str) -> str:
    # Resource ids are matched with wildcards in automations: keep them plain and stable.
    slug = re.sub(r"[^\w]+", "-", label.casefold(), flags=re.UNICODE).strip("-")
    return slug[:80] or "theme"


def emerging_alerts(report: Report) -> list[AlertEvent]:
    """One event per emerging theme of the report, in rank order.

    Args:
        report: The run's report (its trend analysis flags the emerging themes).

    Returns:
        The events to emit (empty when nothing is emerging or there was no baseline).
    """
    window = report.trend_window
    events = []
    for theme in report.emerging:
        trend = theme.trend
        if trend is None or window is None:
            continue
        events.append(
            AlertEvent(
                event=EVENT_NAME,
                resource={
                    "prefect.resource.id": f"vocflow.theme.{_slug(theme.label)}",
                    "prefect.resource.name": theme.label,
                    "vocflow.run-id": report.run_id,
                    "vocflow.status": trend.status,
                },
                payload={
                    "run_id": report.run_id,
                    "rank": theme.rank,
                    "theme_id": theme.theme_id,
                    "label": theme.label,
                    "status": trend.status,
                    "recent": trend.recent,
                    "baseline": trend.baseline,
                    "expected": trend.expected,
                    "rate_ratio": trend.rate_ratio,
                    "p_value": trend.p_value,
                    "negative_share_recent": trend.negative_share_recent,
                    "pain_score": theme.pain_score,
                    "reason": theme.rank_reason,
                    "recent_window": [
                        window.recent_start.isoformat(),
                        window.recent_end.isoformat(),
                    ],
                    "baseline_start": window.baseline_start.isoformat(),
                },
            )
        )
    return events


def alerts_markdown(alerts: list[AlertEvent]) -> str:
    """A short Markdown list of the alerts (theme labels escaped: they come from customer text).

    Args:
        alerts: Events from :func:`emerging_alerts`.

    Returns:
        "# Emerging issues" and one bullet per alert with its reason line.
    """
    lines = [
        f"- **{escape_cell(str(a.payload['label']))}**: {escape_cell(str(a.payload['reason']))}"
        for a in alerts
    ]
    return "\n".join(["# Emerging issues", "", *lines]) + "\n"
