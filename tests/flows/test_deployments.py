from datetime import UTC, datetime

from flows.nightly import run_name
from flows.serve import RERUN_DEPLOYMENT, deployments
from vocflow.settings import load_settings

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_run_names_say_what_ran() -> None:
    assert run_name({}, NOW) == "voc 2026-11-23 02:00 all-sources all-time"
    assert run_name({"window_days": 90}, NOW) == "voc 2026-11-23 02:00 all-sources last-90d"
    slice_ = {
        "sources": ["demo-nsmc"],
        "languages": ["ko"],
        "since": "2026-10-01",
        "until": "2026-10-31",
        "ingest": False,
    }
    assert run_name(slice_, NOW) == (
        "voc 2026-11-23 02:00 demo-nsmc ko 2026-10-01..2026-10-31 no-ingest"
    )
    assert run_name({"since": "2026-10-01"}, NOW).endswith(" 2026-10-01..today")


def test_nightly_and_rerun_deployments() -> None:
    settings = load_settings()
    nightly, rerun = deployments(settings)
    assert nightly.name == settings.schedule.deployment_name
    assert [s.schedule.cron for s in nightly.schedules] == [settings.schedule.cron]
    assert "Custom run" in (nightly.description or "")
    assert rerun.name == RERUN_DEPLOYMENT
    assert rerun.schedules == []  # ad hoc only
    assert rerun.parameters["params"]["ingest"] is False
    assert "sources" in (rerun.description or "") and "window_days" in (rerun.description or "")
    # The run form documents every field (descriptions come from flows.params.RunParameters).
    schema = rerun._parameter_openapi_schema.model_dump()
    fields = schema["definitions"]["RunParameters"]["properties"]
    assert {"sources", "since", "until", "window_days", "languages", "top_n"} <= set(fields)
    assert all(f.get("description") for f in fields.values())
