from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from outputs.html import impact_chart, render_html, safe_url
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
    assert "url(" not in html
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
    assert html.count('<circle cx="') == 1  # one theme with an interval, one whisker
    assert "stage.note" in html  # nested run summary flattened


def test_chart_geometry_is_symmetric_around_zero() -> None:
    report_theme = build_report(
        items_frame(nps_rows(-1, [10] * 20 + [0] * 10) + nps_rows(0, [0] * 12)),
        [ThemeInfo(theme_id=0, label="t")],
        run_id="r",
        n_boot=100,
    ).pain_points
    chart = impact_chart(report_theme)
    assert chart is not None
    left, right = chart.plot_left, chart.plot_right
    assert chart.x_zero == pytest.approx((left + right) / 2, abs=0.1)
    row = chart.rows[0]
    assert left <= row.x_low <= row.x_point <= row.x_high <= chart.x_zero  # all below 0
    assert row.tone == "bad"
    assert impact_chart([]) is None


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
