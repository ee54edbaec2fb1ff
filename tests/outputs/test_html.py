import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from outputs.charts import impact_chart_svg, impact_rows, sparkline_svg
from outputs.html import lineage_badges, render_html, safe_url
from outputs.report import Report, ThemeInfo, build_report

from .conftest import items_frame, nps_rows

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
KOREAN = "배송이 너무 늦어요. 환불은 언제 되나요?"
SAFE_URL = "https://reviews.example.com/r/42?x=1&y=2"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


@pytest.fixture
def hostile_report() -> Report:
    rows = nps_rows(-1, [10] * 20 + [0] * 10) + nps_rows(0, [0] * 12, "negative")
    texts = [f"item {i}" for i in range(42)]
    urls: list[str | None] = [None] * 42
    texts[30], urls[30] = SCRIPT, "javascript:alert(1)"
    texts[31], urls[31] = IMG, " JaVa\tScRiPt:alert(1)"
    texts[32], urls[32] = KOREAN, SAFE_URL
    language = ["en"] * 32 + ["ko"] + ["en"] * 9
    items = items_frame(rows, text=texts, url=urls, language=language)
    theme = ThemeInfo(
        theme_id=0,
        label=f"배송 지연 {SCRIPT}",
        keywords=[IMG, "환불"],
        quote_item_keys=["i0030", "i0031", "i0032"],
    )
    return build_report(
        items,
        [theme],
        run_id="r1",
        title=f"주간 리포트 {SCRIPT}",
        generated_at=datetime(2026, 11, 23, tzinfo=UTC),
        n_boot=200,
        run_summary={"stage": {"note": SCRIPT}},
        models={IMG: "1.0"},
    )


def test_hostile_text_is_escaped(hostile_report: Report) -> None:
    html = render_html(hostile_report)
    assert SCRIPT not in html
    assert IMG not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    parsed = _Collector()
    parsed.feed(html)
    assert not {"script", "img", "iframe", "object", "embed", "link"} & set(parsed.tags)
    assert not [name for name, _ in parsed.attrs if name.startswith("on")]


def test_only_http_urls_become_links(hostile_report: Report) -> None:
    parsed = _Collector()
    parsed.feed(render_html(hostile_report))
    hrefs = [value or "" for name, value in parsed.attrs if name == "href"]
    external = [h for h in hrefs if not h.startswith("#")]
    assert external == [SAFE_URL]  # the parser unescapes &amp; back to &
    assert not any("javascript" in h.lower() for h in hrefs)


def test_no_external_resources(hostile_report: Report) -> None:
    html = render_html(hostile_report)
    parsed = _Collector()
    parsed.feed(html)
    assert not [name for name, _ in parsed.attrs if name in {"src", "srcset", "xlink:href"}]
    assert "@import" not in html
    assert not re.findall(r"url\((?!#)", html)  # only in-page references (chart clip paths)
    # The only http(s) URL anywhere is the quote link (an <a>, not a loaded resource).
    assert html.count("http://") == 0
    assert html.count("https://") == 1


def test_korean_round_trips_and_page_is_declared_utf8(hostile_report: Report) -> None:
    html = render_html(hostile_report)
    assert '<meta charset="utf-8">' in html
    assert '<html lang="en">' in html
    assert KOREAN in html
    assert "배송 지연" in html
    assert "환불" in html
    assert '"Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic"' in html
    assert 'lang="ko"' in html  # the Korean quote is tagged for font and screen readers
    assert "@media print" in html


def test_sections_and_chart(hostile_report: Report) -> None:
    html = render_html(hostile_report)
    for heading in ("Pain points", "NPS impact by theme", "Strengths", "Method", "Run summary"):
        assert f"<h2>{heading}</h2>" in html
    assert "stage.note" in html  # nested run summary flattened
    chart = html[html.index('<svg class="chart" role="img" aria-label="NPS impact') :]
    chart = chart[: chart.index("</svg>")]
    # The label is drawn as real text (Korean stays text) and is escaped inside the SVG.
    assert "1. 배송 지연 &lt;script&gt;" in chart
    assert "<script" not in chart and "xmlns" not in chart


def test_impact_rows_tone_and_empty_chart() -> None:
    themes = build_report(
        items_frame(nps_rows(-1, [10] * 20 + [0] * 10) + nps_rows(0, [0] * 12)),
        [ThemeInfo(theme_id=0, label="t")],
        run_id="r",
        n_boot=100,
    ).pain_points
    (row,) = impact_rows(themes)
    assert row.low <= row.point <= row.high < 0  # all detractors: the whole interval below 0
    assert row.tone == "bad"
    assert row.label == "1. t"
    assert impact_chart_svg([]) is None
    assert impact_chart_svg(themes) is not None


def test_korean_chart_labels_log_no_missing_glyph_warnings(
    hostile_report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from outputs import charts

    # A host without a CJK font: only DejaVu Sans, which has no Hangul.
    monkeypatch.setattr(charts, "_installed_fonts", lambda: ["DejaVu Sans"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = impact_chart_svg(hostile_report.pain_points)
    assert svg is not None and "배송 지연" in svg  # the label is still real text
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_sparkline_ids_are_unique_per_chart() -> None:
    one, two = sparkline_svg([1, 4, 2, 8], "spark-1"), sparkline_svg([1, 4, 2, 8], "spark-2")
    assert one is not None and two is not None
    ids_one = set(re.findall(r'id="([^"]+)"', one))
    ids_two = set(re.findall(r'id="([^"]+)"', two))
    assert ids_one and not ids_one & ids_two
    assert all(i.startswith("spark-1-") for i in ids_one)
    assert sparkline_svg([3], "s") is None


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect onload="alert(1)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<use xlink:href="https://evil.example/x.svg#a"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url(https://e.example/x)"/></svg>',
    ],
)
def test_chart_check_rejects_active_content(svg: str) -> None:
    from outputs.charts import _check

    with pytest.raises(ValueError):
        _check(svg)


def test_top_n_and_details(hostile_report: Report) -> None:
    many = hostile_report.model_copy(update={"top_n": 0})
    assert "<details>" in render_html(many)
    assert "<details>" not in render_html(hostile_report)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.example/x", "https://a.example/x"),
        ("http://a.example", "http://a.example"),
        ("javascript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//evil.example/x", None),
        ("https:///nohost", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_theme_cards_show_area_lineage_and_sparkline(hostile_report: Report) -> None:
    theme = hostile_report.pain_points[0].model_copy(
        update={
            "area": "배송 <b>area</b>",
            "lineage": {"event": "grew", "size_before": 5, "size_after": 12, "related": []},
            "weekly_volume": [0, 2, 5, 12],
        }
    )
    merged = {
        "theme_id": 7, "label": "late parcels", "event": "merged",
        "related": [{"theme_id": 0, "label": "t"}], "size_before": 9, "size_after": 0,
    }  # fmt: skip
    report = hostile_report.model_copy(update={"pain_points": [theme], "theme_changes": [merged]})
    assert lineage_badges(report, theme) == [
        ("grew", "grew since the last run (5 → 12 items)"),
        ("merged", "merged in: late parcels"),
    ]
    html = render_html(report)
    card = html[html.index('<article class="card" id="theme-0">') :]
    card = card[: card.index("</article>")]
    assert '<span class="tag lineage grew"' in card and '<span class="tag lineage merged"' in card
    assert "Area: 배송 &lt;b&gt;area&lt;/b&gt;" in card
    assert 'aria-label="Items per week, oldest first: 0, 2, 5, 12"' in card
    assert card.count("open source item") == 1  # only the https quote links to its source
