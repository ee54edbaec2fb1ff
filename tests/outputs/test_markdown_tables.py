import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from outputs.html import render_html
from outputs.markdown import escape_cell, render_markdown
from outputs.report import Report, ThemeInfo, build_report, fmt_signed
from outputs.tables import PAIN_POINT_COLUMNS, pain_points_frame

from .conftest import items_frame, nps_rows


def _table_rows(markdown: str) -> list[list[str]]:
    # Rows of the pain-point table only: from its "| # |" header to the first blank line.
    rows, inside = [], False
    for line in markdown.splitlines():
        if line.startswith("| # |"):
            inside = True
        elif inside and not line:
            break
        elif inside and line.startswith("| "):
            # Split on pipes that are not escaped, then drop the outer empty cells.
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            rows.append([c.strip() for c in cells])
    return rows


def test_frame_columns_and_values(sample_report: Report) -> None:
    frame = pain_points_frame(sample_report)
    assert tuple(frame.columns) == PAIN_POINT_COLUMNS
    assert frame["rank"].tolist() == [1, 2, 3, 4]
    assert frame["theme_id"].tolist() == [0, 1, 2, 3]
    assert frame.loc[0, "keywords"] == "slow"
    assert frame.loc[0, "nps_impact"] == pytest.approx(-1.9636, abs=1e-4)
    # Unscored themes: None in the report becomes NaN, with float dtype kept.
    assert frame["impact_ci_high"].isna().tolist() == [False, False, True, True]
    assert frame["pain_score"].dtype == "float64"


def test_empty_report_frame_keeps_schema(sample_report: Report) -> None:
    frame = pain_points_frame(sample_report.model_copy(update={"pain_points": []}))
    assert tuple(frame.columns) == PAIN_POINT_COLUMNS
    assert len(frame) == 0
    assert frame["rank"].dtype == "int64"
    assert frame["nps_impact"].dtype == "float64"


def test_markdown_agrees_with_csv(sample_report: Report, tmp_path) -> None:
    path = tmp_path / "pain_points.csv"
    pain_points_frame(sample_report).to_csv(path, index=False)
    csv = pd.read_csv(path)
    rows = _table_rows(render_markdown(sample_report))
    assert len(rows) == sample_report.top_n == 2
    for cells, (_, record) in zip(rows, csv.iterrows(), strict=False):
        rank, label, volume, negative, impact, _trend, _quote = cells
        assert int(rank) == record["rank"]
        assert label == record["label"]
        assert int(volume) == record["volume"]
        assert negative == f"{100 * record['negative_share']:.0f}%"
        assert record["primary_metric"] == "nps"
        low, high = fmt_signed(record["primary_ci_low"]), fmt_signed(record["primary_ci_high"])
        assert impact == f"{fmt_signed(record['primary_impact'])} NPS [{low}, {high}]"
        assert record["primary_impact"] == record["nps_impact"]


def test_markdown_sections(sample_report: Report) -> None:
    text = render_markdown(sample_report)
    assert text.startswith("# Voice of Customer report\n")
    assert "- **NPS:** +14.4 (95% CI" in text  # (87 - 51) / 250
    assert "2 more ranked themes in the full report." in text
    assert "## Method" in text
    assert "- Data window: every stored item; 263 items." in text
    assert "No earlier run of the same scope: no changes shown." in text
    assert "NPS from a 0-10 in-app survey" in text
    assert "minus the upper bound of the 95 % impact interval" in text
    # One reason line per listed theme, starting with its rank.
    assert "- rank 1: −2.0 NPS \\[" in text
    assert "## Key drivers" in text


def test_table_cells_are_escaped() -> None:
    rows = nps_rows(-1, [10] * 10 + [0] * 5) + nps_rows(0, [0] * 10, "negative")
    texts = ["x"] * 15 + ["line one\nline | two <b>[link](javascript:x)</b>"] * 10
    report = build_report(
        items_frame(rows, text=texts),
        [ThemeInfo(theme_id=0, label="refund | billing")],
        run_id="r",
        n_boot=50,
    )
    table = _table_rows(render_markdown(report))
    assert len(table) == 1
    assert len(table[0]) == 7
    assert table[0][1] == r"refund \| billing"
    assert "<b>" not in table[0][6]
    assert "\n" not in table[0][6]
    assert escape_cell("a|b\nc") == r"a\|b c"
    assert escape_cell("<x> & [y]") == r"&lt;x&gt; &amp; \[y\]"


class _RankedTable(HTMLParser):
    """Cell texts of the rows of the first ``table.ranked`` in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._depth = 0  # >0 inside the first ranked table
        self._done = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("class", "ranked") in attrs and not self._done:
            self._depth = 1
        elif self._depth and tag == "tr":
            self.rows.append([])
        elif self._depth and tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif self._depth and tag == "table":
            self._depth, self._done = 0, True

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_markdown_and_csv_agree(sample_report: Report, tmp_path) -> None:
    path = tmp_path / "pain_points.csv"
    pain_points_frame(sample_report).to_csv(path, index=False)
    csv = pd.read_csv(path)
    parsed = _RankedTable()
    parsed.feed(render_html(sample_report))
    html = [r for r in parsed.rows if r]  # the header row has <th> cells only
    markdown = _table_rows(render_markdown(sample_report))
    assert len(html) == len(markdown) == sample_report.top_n == 2
    for h, m, (_, record) in zip(html, markdown, csv.iterrows(), strict=False):
        assert int(h[0]) == int(m[0]) == record["rank"]
        assert h[1] == record["label"] and m[1] == escape_cell(record["label"])
        assert int(h[2]) == int(m[2]) == record["volume"]
        assert h[3] == m[3] == f"{100 * record['negative_share']:.0f}%"
        low, high = fmt_signed(record["primary_ci_low"]), fmt_signed(record["primary_ci_high"])
        assert h[4] == m[4] == f"{fmt_signed(record['primary_impact'])} NPS [{low}, {high}]"
