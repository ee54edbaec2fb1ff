"""The analyses wired into one report, its tables and renderers (tiny synthetic stream)."""

from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from outputs.analytics import AnalysisOptions
from outputs.bundle import write_bundle
from outputs.did import LoggedAction
from outputs.html import render_html
from outputs.markdown import render_markdown
from outputs.report import Report, ThemeInfo, build_report
from outputs.tables import PAIN_POINT_COLUMNS, pain_points_frame

SCRIPT = "<script>alert(1)</script>"
START = date(2026, 10, 1)


def _items() -> pd.DataFrame:
    """42 days. Themes 0-3 steady (3 items a day); theme 4 appears only in the last 3 days
    (6 a day, all detractors); outliers 4 a day. Country A/B alternate; customers k0..k59.
    """
    rng = np.random.default_rng(0)
    rows = []
    for d in range(42):
        day = START + timedelta(days=d)
        plan = [(t, 3) for t in range(4)] + [(-1, 4)] + ([(4, 6)] if d >= 39 else [])
        for theme, count in plan:
            for _ in range(count):
                if theme == 4:
                    score = float(rng.integers(0, 5))
                elif theme == 1:
                    score = float(rng.integers(0, 8))  # billing: mostly detractors
                else:
                    score = float(rng.integers(6, 11))
                sentiment = "negative" if score <= 6 else "positive"
                rows.append((day, theme, score, sentiment))
    frame = pd.DataFrame(rows, columns=["day", "theme_id", "score", "sentiment"])
    n = len(frame)
    frame["item_key"] = [f"i{i:04d}" for i in range(n)]
    frame["text"] = [f"feedback {i}" for i in range(n)]
    frame["source"] = "survey"
    frame["channel"] = "survey"
    frame["language"] = "en"
    frame["created_at"] = pd.to_datetime(frame["day"].astype(str) + "T10:00:00Z", utc=True)
    frame["url"] = None
    frame["score_type"] = "nps"
    frame["customer_key"] = [f"k{i % 60}" for i in range(n)]
    frame["segment.country"] = np.where(np.arange(n) % 2 == 0, "A", f"B {SCRIPT}")
    return frame.drop(columns="day")


THEMES = [
    ThemeInfo(theme_id=0, label="delivery"),
    ThemeInfo(theme_id=1, label="billing", keywords=["invoice", "charge"]),
    ThemeInfo(theme_id=2, label="app"),
    ThemeInfo(theme_id=3, label="support"),
    ThemeInfo(theme_id=4, label="card arrival"),
]


@pytest.fixture(scope="module")
def report() -> Report:
    churned = {f"k{i}": i < 15 for i in range(60)}
    actions = [
        LoggedAction(action_id="a1", theme="invoice", owner="Ana", action=f"fix {SCRIPT}",
                     action_date=START + timedelta(days=21), link="javascript:alert(1)"),
        LoggedAction(action_id="a2", theme="no such theme", action="x", action_date=START),
    ]  # fmt: skip
    return build_report(
        _items(),
        THEMES,
        run_id="r1",
        generated_at=datetime(2026, 11, 12, tzinfo=UTC),
        n_boot=200,
        options=AnalysisOptions(recent_days=3, min_metric_n=30, min_churn_customers=10),
        churned=churned,
        actions=actions,
    )


def test_emerging_theme_ranks_high_with_reason(report: Report) -> None:
    assert [t.label for t in report.emerging] == ["card arrival"]
    # Billing (126 items, 83 % negative, NPS impact about -18) stays the worst pain point; the
    # new theme (18 items) is boosted x3 by its trend term and ranks right after it.
    assert [t.label for t in report.pain_points[:2]] == ["billing", "card arrival"]
    new = report.pain_points[1]
    assert new.trend is not None and new.trend.status == "new"
    assert new.rank_reason.startswith("rank 2: ")
    assert "new: 18 items in the last 3 d, none before" in new.rank_reason
    assert new.score_components["trend"] == 2.0
    parts = new.score_components
    assert parts["score"] == pytest.approx((parts["harm"] + parts["negative"]) * 3)
    steady = {t.label: t.trend.status for t in report.pain_points if t.trend}
    assert steady["delivery"] == steady["app"] == "steady"


def test_report_sections_are_filled(report: Report) -> None:
    assert report.trend_window is not None
    assert report.trend_window.recent_end == START + timedelta(days=42)
    assert report.drivers is not None
    assert sum(d.share for d in report.drivers.drivers) == pytest.approx(report.drivers.r2)
    assert [v.column for v in report.segments] == ["segment.country"]
    assert {t.churn is not None for t in report.pain_points} == {True}
    billing = report.actions[0]
    assert billing.theme_label == "billing"
    assert {e.outcome for e in billing.estimates} >= {"volume", "negative_share", "nps_impact"}
    assert report.actions[1].note == "no theme of this run matches the action's theme"
    assert report.kpis.metrics[0].key == "nps"
    assert any("Did the fix work" in n for n in report.method_notes)


def test_pain_points_table_carries_interval_reason_trend_segment(report: Report) -> None:
    frame = pain_points_frame(report)
    assert tuple(frame.columns) == PAIN_POINT_COLUMNS
    new = frame.iloc[1]
    assert new["label"] == "card arrival"
    assert new["emerging"] and new["trend_status"] == "new"
    assert new["primary_metric"] == "nps"
    assert new["primary_ci_low"] <= new["primary_impact"] <= new["primary_ci_high"]
    assert new["rank_reason"].startswith("rank 2:")
    assert new["weekly_volume"] == "0;0;0;0;0;0;0;18"
    assert frame["emerging"].tolist() == [False, True, False, False, False]
    assert frame["top_segment"].iloc[0].startswith("segment.country=")
    assert frame["churn_lift"].notna().all()
    assert frame["emerging"].dtype == bool
    assert frame["trend_recent"].dtype == "int64"


def test_markdown_and_html_show_the_sections_escaped(report: Report, tmp_path) -> None:
    md = render_markdown(report)
    for heading in ("## Emerging issues", "## Key drivers", "## Segments", "## Did the fix work?"):
        assert heading in md
    assert "**card arrival** (rank 2): new: 18 items" in md
    assert SCRIPT not in md
    html = render_html(report)
    for heading in ("Emerging issues", "Key drivers", "Segments", "Did the fix work?"):
        assert f"<h2>{heading}</h2>" in html
    assert SCRIPT not in html

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.hrefs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append(tag)
            self.hrefs += [v or "" for k, v in attrs if k == "href"]

    parsed = Tags()
    parsed.feed(html)
    assert "script" not in parsed.tags
    assert not [h for h in parsed.hrefs if "javascript" in h.lower()]
    run_dir = write_bundle(
        report, tmp_path, {"run_id": "r1"}, {"followup.csv": pd.DataFrame({"a": [1]})}
    )
    assert (run_dir / "followup.csv").is_file()
    assert (tmp_path / "latest" / "followup.csv").is_file()
    with pytest.raises(ValueError, match="unsafe extra table"):
        write_bundle(report, tmp_path, {}, {"../x.csv": pd.DataFrame()})
