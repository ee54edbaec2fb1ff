"""The HTML report of a real flow run, opened in headless Chromium.

One run of the nightly flow on a sample of the bundled demo data (English and Korean) with
hostile customer input planted in text, segment values and source links. The page must load
with no console error, request nothing beyond its own file, keep every hostile string inert
text, print, and agree with the Markdown summary and the CSV table of the same bundle.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from outputs.markdown import escape_cell
from outputs.report import fmt_signed
from tests.browser.chromium import open_page
from tests.flows.conftest import REPO, _sample

pytestmark = pytest.mark.slow

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
# Survives tag stripping (no closing ">"), so it reaches quotes as it was written.
OPEN_TAG = '"><img src=x onerror=alert(3) '
JS_LINK = "javascript:alert(4)"
SOURCE_SITE = "https://www.airlinequality.com"


def _plant(rows: list[dict[str, str]]) -> None:
    for n, row in enumerate(rows):
        row["link"] = SOURCE_SITE + row["link"]
        if n % 4 == 0:  # 28 rows: a segment level of its own (min_metric_n below)
            row["author_country"] = IMG
            row["type_traveller"] = SCRIPT
            row["content"] = OPEN_TAG + row["content"]
            row["link"] = JS_LINK


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def bundle(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> Path:  # noqa: F811
    """reports/latest/ of one nightly run on ~220 demo rows with planted hostile input."""
    from flows.nightly import nightly
    from flows.params import RunParameters

    root = tmp_path_factory.mktemp("browser-project")
    data = root / "data"
    data.mkdir()
    # ~220 rows keep the whole module near two minutes on two busy cores.
    sky = _sample(REPO / "data/demo/skytrax_seat_reviews.csv", data / "sky.csv", 110, ",")
    _plant(sky)
    _write(data / "sky.csv", sky)
    _sample(REPO / "data/demo/nsmc_reviews_ko.tsv", data / "ko.tsv", 110, "\t")
    config = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    config["sources"][0]["options"]["path"] = "data/sky.csv"
    config["sources"][0]["options"].pop("url_base", None)  # links are absolute (or hostile)
    config["sources"][1]["options"]["path"] = "data/ko.tsv"
    config["themes"]["min_theme_size"] = 8
    config["analysis"]["n_bootstrap"] = 300
    # Segment columns named explicitly, so the planted levels are shown whatever their size.
    config["analysis"]["segment_columns"] = ["segment.author_country", "segment.type_traveller"]
    config["analysis"]["min_metric_n"] = 20  # smallest segment level shown
    # Raw segment values reach the store unchanged: the renderer alone must make them inert.
    config["privacy"]["keep_raw_text"] = True
    (root / "configs").mkdir()
    (root / "configs/vocflow.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOCFLOW_CONFIG_DIR", str(root / "configs"))
        mp.setenv("VOCFLOW_CUSTOMER_KEY_SALT", "test-salt")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        summary = nightly(RunParameters(top_n=5))
    assert summary.get("report_dir"), summary
    return root / "reports" / "latest"


def test_report_renders_offline_without_errors(bundle: Path, tmp_path: Path) -> None:
    with open_page(bundle / "report.html") as (page, log):
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=False)
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    assert log.console_errors == [] and log.page_errors == []
    # The only request is the file itself: no CDN, no font, no image from anywhere.
    assert log.requests == [(bundle / "report.html").resolve().as_uri()]


def test_hostile_customer_text_stays_inert(bundle: Path) -> None:
    with open_page(bundle / "report.html") as (page, log):
        active = page.evaluate(
            """() => ({
              elements: document.querySelectorAll(
                'script, img, iframe, object, embed, link, foreignObject').length,
              handlers: [...document.querySelectorAll('*')].flatMap(
                e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')),
              hrefs: [...document.querySelectorAll('[href]')].map(e => e.getAttribute('href')),
              text: document.body.innerText,
            })"""
        )
    assert log.dialogs == []  # no alert() ran
    assert active["elements"] == 0
    assert active["handlers"] == []
    external = [h for h in active["hrefs"] if not h.startswith("#")]
    assert external and all(h.startswith(SOURCE_SITE + "/") for h in external)
    assert not any("javascript" in h.lower() for h in active["hrefs"])
    # The planted strings are on the page, as text.
    assert IMG in active["text"]  # segment level (author_country)
    assert SCRIPT in active["text"]  # segment level (type_traveller)
    assert OPEN_TAG.strip() in active["text"]  # quote text


def test_korean_text_is_rendered_as_text(bundle: Path) -> None:
    with open_page(bundle / "report.html") as (page, _log):
        # Open the collapsed sections first: hidden quotes have no box to measure.
        korean = page.evaluate(
            """() => {
                 document.querySelectorAll('details').forEach(d => { d.open = true; });
                 return [...document.querySelectorAll('blockquote[lang="ko"] p')]
                        .map(p => [p.innerText, p.getBoundingClientRect().width]);
               }"""
        )
        chart_labels = page.evaluate(
            "() => [...document.querySelectorAll('svg.chart text')].map(t => t.textContent)"
        )
    assert korean, "no Korean quote on the page"
    assert all(width > 0 for _text, width in korean)
    assert any(re.search("[가-힣]", text) for text, _width in korean)
    assert any(re.search("[가-힣]", label) for label in chart_labels)  # chart text stays text


def _html_rows(bundle: Path) -> list[list[str]]:
    with open_page(bundle / "report.html") as (page, _log):
        return page.evaluate(
            """() => [...document.querySelectorAll('table.ranked')[0].querySelectorAll('tbody tr')]
                     .map(tr => [...tr.cells].map(td => td.innerText.trim()))"""
        )


def _md_rows(markdown: str) -> list[list[str]]:
    rows, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("| # |"):
            inside = True
        elif inside and not line:
            break
        elif inside and line.startswith("| ") and not line.startswith("|---"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_csv_and_html_agree(bundle: Path) -> None:
    table = pd.read_csv(bundle / "pain_points.csv", keep_default_na=False, na_values=[""])
    html = _html_rows(bundle)
    markdown = _md_rows((bundle / "report.md").read_text(encoding="utf-8"))
    assert len(html) == len(markdown) == min(5, len(table)) > 0
    for h, m, (_, r) in zip(html, markdown, table.iterrows(), strict=False):
        assert int(h[0]) == int(m[0]) == r["rank"]
        assert h[1] == r["label"]
        assert m[1] == escape_cell(r["label"])
        assert int(h[2]) == int(m[2]) == r["volume"]
        assert h[3] == m[3] == f"{100 * r['negative_share']:.0f}%"
        assert h[4] == m[4]
        if pd.notna(r["primary_impact"]):
            low, high = fmt_signed(r["primary_ci_low"]), fmt_signed(r["primary_ci_high"])
            assert h[4].startswith(fmt_signed(r["primary_impact"]) + " ")
            assert h[4].endswith(f"[{low}, {high}]")
    scored = table.dropna(subset=["primary_impact"]).head(5)
    assert len(scored) > 0  # the check above compared at least one figure
