"""Which runs own reports/latest/: the full scope only; narrower runs get latest-<scope>."""

from datetime import date

import pytest

from flows.params import Language, RunParameters


def test_the_full_scope_has_no_suffix() -> None:
    assert RunParameters().report_scope() is None
    # Changing what is shown, not what is covered, keeps the full scope.
    assert RunParameters(top_n=5, min_theme_size=20, ingest=False).report_scope() is None


@pytest.mark.parametrize(
    ("params", "scope"),
    [
        (RunParameters(sources=["demo-nsmc"]), "demo-nsmc"),
        (RunParameters(sources=["a", "b"], languages=[Language.KO]), "a+b_ko"),
        (RunParameters(window_days=90), "last-90d"),
        (
            RunParameters(since=date(2026, 10, 1), until=date(2026, 10, 31)),
            "2026-10-01..2026-10-31",
        ),
        (RunParameters(sources=["zendesk eu/brand a"]), "zendesk-eu-brand-a"),
    ],
)
def test_narrower_runs_name_their_scope(params: RunParameters, scope: str) -> None:
    assert params.report_scope() == scope


def test_long_scopes_stay_short_and_distinct() -> None:
    one = RunParameters(sources=[f"source-{i}" for i in range(20)]).report_scope()
    two = RunParameters(sources=[f"source-{i}" for i in range(21)]).report_scope()
    assert one is not None and two is not None
    assert len(one) <= 80 and len(two) <= 80 and one != two
