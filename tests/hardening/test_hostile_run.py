"""Whole runs on hostile input: bad rows counted, no PII and no secret in any output, erasure.

One project, built once: real demo rows (English and Korean) with synthetic PII written into
a third of them, plus the bad-input corpus as five more sources. The customer-key salt comes
from a Prefect Secret block in the first run and from the environment in the second; both
values are fake tokens that must appear nowhere. The last test forgets a quoted customer
through the CLI and checks the regenerated report.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from nlp.theme_labels import has_redaction, quote_tier
from tests.fixtures.bad_input.make_corpus import build_corpus
from tests.hardening.conftest import run_cli, write_project

pytestmark = pytest.mark.slow

ENV_TOKEN = "sk-test-ENVFAKE-7f3a9c2e41d8"
BLOCK_TOKEN = "sk-test-BLOCKFAKE-0b6d5e8a93c1"
BLOCK_NAME = "hardening-salt"
# Synthetic PII written into real reviews: (prefix added to the text, strings that must vanish).
PII_KO = [
    ("연락처 010-7777-1234로 연락 주세요. ", ["010-7777-1234", "7777-1234"]),
    ("메일 hong.gildong@naver.com 으로 답장 부탁. ", ["hong.gildong@naver.com", "hong.gildong"]),
    ("주민번호 900101-1234567 입력함. ", ["900101-1234567"]),
    ("카드 4111 1111 1111 1111 결제 오류. ", ["4111 1111 1111 1111"]),
    ("김영호님 상담 감사합니다. ", ["김영호"]),
    ("환불은 국민 123456-01-654321 로. ", ["123456-01-654321"]),
]
PII_EN = [
    ("Call me on +1 415 555 0199. ", ["415 555 0199"]),
    ("Email john.fitzgerald@example.com. ", ["john.fitzgerald@example.com", "john.fitzgerald"]),
    ("Mr. Fitzgerald at the desk was rude. ", ["Fitzgerald"]),
    ("Logged in from 203.0.113.77. ", ["203.0.113.77"]),
    ("Reset link https://shop.example.com/reset?token=zz99secret failed. ", ["zz99secret"]),
    ("Refund to account number 9876543210 please. ", ["9876543210"]),
]


def _inject(key: str, rows: list[dict[str, str]]) -> None:
    column, pii = ("content", PII_EN) if key == "sky" else ("review", PII_KO)
    for n, row in enumerate(rows):
        if n % 3 == 0:
            row[column] = pii[(n // 3) % len(pii)][0] + row[column]
        if key == "ko":
            row["user"] = f"user{n % 6}"  # NSMC has no customer column: give it one


def _ko_customer_column(config: dict) -> None:
    config["sources"][1]["options"]["columns"]["customer"] = "user"


@pytest.fixture(scope="module")
def project(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from prefect.blocks.system import Secret

    Secret(value=BLOCK_TOKEN).save(BLOCK_NAME, overwrite=True)
    root = tmp_path_factory.mktemp("hostile")
    corpus = build_corpus(root / "data")
    info = write_project(
        root, n_per_language=45, min_theme_size=5, edit_rows=_inject,
        extra_sources=corpus.sources, settings={"customer_key_salt_block": BLOCK_NAME},
        edit_config=_ko_customer_column,
    )  # fmt: skip
    # Run 1: salt from the Secret block (no env salt), no themes fitted: fast, ingests all.
    first = run_cli(
        root, api_url, ["run", "--min-theme-size", "1000"], env={"VOCFLOW_CUSTOMER_KEY_SALT": None}
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    first_run = json.loads((root / "reports/latest/run.json").read_text(encoding="utf-8"))
    # Run 2: salt from the environment, themes fitted: a report with quotes.
    second = run_cli(root, api_url, ["run"], env={"VOCFLOW_CUSTOMER_KEY_SALT": ENV_TOKEN})
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    outputs = {
        str(p.relative_to(root)): p.read_bytes().decode("utf-8", "replace")
        for p in (root / "reports").rglob("*")
        if p.is_file()
    }
    outputs["stdout+stderr"] = "".join(r.stdout + r.stderr for r in (first, second))
    outputs.update(_prefect_records())
    return {"root": root, "corpus": corpus, "first_run": first_run, "outputs": outputs, **info}


def _prefect_records() -> dict[str, str]:
    """Every log line, artifact and flow-run parameter the test Prefect API holds."""
    from prefect.client.orchestration import get_client

    records: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        offset, lines = 0, []
        while True:
            page = client.read_logs(limit=200, offset=offset)
            lines += [log.message for log in page]
            offset += len(page)
            if len(page) < 200:
                break
        records["prefect logs"] = "\n".join(lines)
        artifacts = client.read_artifacts(limit=200)
        records["prefect artifacts"] = "\n".join(json.dumps(a.data, default=str) for a in artifacts)
        runs = client.read_flow_runs(limit=200)
        records["prefect flow runs"] = "\n".join(
            json.dumps([r.name, r.parameters], default=str) for r in runs
        )
    assert records["prefect logs"] and records["prefect artifacts"]
    return records


def test_bad_rows_are_quarantined_and_counted_while_good_rows_are_processed(project):
    corpus, run = project["corpus"], project["first_run"]
    for name, expected in corpus.expected.items():
        bad = sum(1 for reason in expected.values() if reason != "ok")
        counts = run["sources"][name]
        assert counts["quarantined"] == bad, name
        assert counts["new"] == len(corpus.good_ids[name]), name
    reasons = run["quarantine_reasons"]
    for reason in ("invalid_encoding", "malformed_row", "no_text_content", "duplicate_conflict"):
        assert reasons.get(reason, 0) >= 1, reason
    print("\nrun.json quarantine_reasons:", reasons)


def test_no_injected_pii_string_appears_in_any_output(project):
    needles = [s for _, strings in PII_KO + PII_EN for s in strings]
    originals = [r["content"] for r in project["sky"]] + [r["review"] for r in project["ko"]]
    # The sample really carries the PII (so the check below can fail).
    assert sum(any(n in text for n in needles) for text in originals) >= 25
    leaks = [
        (where, needle)
        for where, text in project["outputs"].items()
        for needle in needles
        if needle in text
    ]
    assert leaks == []
    # Redaction, not loss, kept the PII out: the analysed texts carry the placeholders.
    texts, members = _latest_themes(project["root"])
    assert sum(has_redaction(t) for t in texts.values()) >= 25
    # Quotes prefer texts without placeholders (nlp.theme_labels.quote_tier). Which member
    # is most central depends on the CPU's embedding kernels (issue 16: a Xeon with
    # AVX512-VNNI quoted another review than an AVX2 EPYC), the rule does not: a theme's
    # example quote is redacted only when the theme has no clean quotable text.
    pain = pd.read_csv(project["root"] / "reports/latest/pain_points.csv")
    assert len(pain) >= 1
    exercised = 0
    for row in pain.itertuples():
        theirs = [texts[k] for k in members.get(int(row.theme_id), []) if k in texts]
        exercised += any(has_redaction(t) for t in theirs)
        if isinstance(row.example_quote, str) and has_redaction(row.example_quote):
            assert not any(quote_tier(t) == 0 for t in theirs), (row.theme_id, row.example_quote)
    assert exercised >= 1  # some reported theme had redacted members to pass over


def _latest_themes(root) -> tuple[dict[str, str], dict[int, list[str]]]:
    """Stored text per item, and the member item keys per theme of the latest run."""
    run_id = json.loads((root / "reports/latest/run.json").read_text(encoding="utf-8"))["run_id"]
    con = duckdb.connect(str(root / ".vocflow" / "vocflow.duckdb"), read_only=True)
    try:
        texts = dict(con.execute("SELECT item_key, text_clean FROM items").fetchall())
        rows = con.execute(
            "SELECT theme_id, item_key FROM item_themes WHERE run_id = ?", [run_id]
        ).fetchall()
    finally:
        con.close()
    members: dict[int, list[str]] = {}
    for theme_id, key in rows:
        members.setdefault(int(theme_id), []).append(key)
    return texts, members


def test_no_secret_appears_in_logs_artifacts_reports_run_json_or_the_store(project):
    leaks = [
        (where, token)
        for where, text in project["outputs"].items()
        for token in (ENV_TOKEN, BLOCK_TOKEN)
        if token in text
    ]
    assert leaks == []
    store = (project["root"] / ".vocflow" / "vocflow.duckdb").read_bytes()
    assert ENV_TOKEN.encode() not in store and BLOCK_TOKEN.encode() not in store
    assert any(name.endswith("run.json") for name in project["outputs"])


def test_forget_removes_a_quoted_customer_and_regenerates_the_report(project, api_url: str):
    root = project["root"]
    db = root / ".vocflow" / "vocflow.duckdb"
    quotes = pd.read_csv(root / "reports/latest/pain_points.csv")["example_quote"].dropna()
    con = duckdb.connect(str(db))
    try:
        items = con.execute(
            "SELECT item_key, customer_key, text_clean FROM items WHERE customer_key IS NOT NULL"
        ).df()
    finally:
        con.close()
    quoted = [
        row
        for quote in quotes
        for row in items.itertuples()
        if row.text_clean.startswith(quote.removesuffix("…").strip()[:40])
    ]
    assert quoted, "the report quotes at least one item with a customer key"
    key = quoted[0].customer_key
    theirs = items[items["customer_key"] == key]
    old_folders = {p.name for p in (root / "reports").iterdir()}

    done = run_cli(
        root, api_url, ["forget", "--customer", key], env={"VOCFLOW_CUSTOMER_KEY_SALT": ENV_TOKEN}
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    con = duckdb.connect(str(db))
    try:
        q = lambda sql, p: con.execute(sql, p).fetchall()[0][0]  # noqa: E731
        keys = theirs["item_key"].tolist()
        assert q("SELECT count(*) FROM items WHERE customer_key = ?", [key]) == 0
        assert (
            q("SELECT count(*) FROM enrichments WHERE item_key IN (SELECT unnest(?))", [keys]) == 0
        )
        assert (
            q("SELECT count(*) FROM item_themes WHERE item_key IN (SELECT unnest(?))", [keys]) == 0
        )
        assert q("SELECT count(*) FROM erasure_log WHERE kind = 'forget'", []) == 1
        assert q("SELECT count(*) FROM erased_customers WHERE customer_key = ?", [key]) == 1
        remaining = q("SELECT count(*) FROM items", [])
    finally:
        con.close()
    latest = root / "reports" / "latest"
    run = json.loads((latest / "run.json").read_text(encoding="utf-8"))
    assert run["params"]["ingest"] is False and run["items"]["analysed"] == remaining
    texts = "".join(
        (latest / n).read_text(encoding="utf-8")
        for n in ("report.md", "report.html", "pain_points.csv")
    )
    for text in theirs["text_clean"]:
        assert text[:40] not in texts
    # No Prefect artifact (any version of the report) still quotes them.
    artifacts = _prefect_records()["prefect artifacts"]
    assert not [t for t in theirs["text_clean"] if t[:40] in artifacts]
    assert "Prefect artifacts removed: 0" not in done.stdout
    # The older bundle that quoted the customer is gone; the new one replaced it.
    new_folders = {p.name for p in (root / "reports").iterdir()}
    assert new_folders - old_folders and not (old_folders - {"latest"}) <= new_folders
    print(
        f"\nforget: {len(theirs)} items of one customer removed, {remaining} left; {done.stdout.strip()}"
    )

    # A raw id works too, hashed with the salt the items were hashed with (the Secret block
    # of the first run), and regeneration can be skipped.
    raw = run_cli(
        root,
        api_url,
        ["forget", "--raw-id", "user1", "--no-regenerate"],
        env={"VOCFLOW_CUSTOMER_KEY_SALT": None},
    )
    assert raw.returncode == 0, raw.stderr[-2000:]
    assert "'items': 0" not in raw.stdout


def test_retention_setting_drops_old_items_at_the_start_of_a_run(
    api_url: str, tmp_path_factory: pytest.TempPathFactory
):
    root = tmp_path_factory.mktemp("retention")
    write_project(root, n_per_language=20)
    fast = ["run", "--min-theme-size", "1000"]
    first = run_cli(root, api_url, fast)
    assert first.returncode == 0, first.stderr[-2000:]
    db = root / ".vocflow" / "vocflow.duckdb"
    con = duckdb.connect(str(db))
    dates = sorted(d for (d,) in con.execute("SELECT created_at FROM items").fetchall())
    con.close()
    # Keep roughly the newer half: the cutoff falls on the median item date.
    median = dates[len(dates) // 2]
    days = (pd.Timestamp.now(tz="UTC") - pd.Timestamp(median)).days
    second = run_cli(root, api_url, fast, env={"VOCFLOW_PRIVACY__RETENTION_DAYS": str(days)})
    assert second.returncode == 0, second.stderr[-2000:]
    run = json.loads((root / "reports/latest/run.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(db))
    try:
        left = con.execute("SELECT min(created_at), count(*) FROM items").fetchall()[0]
        log = con.execute("SELECT kind, counts FROM erasure_log").fetchall()
    finally:
        con.close()
    deleted = run["retention_deleted"]["items"]
    assert 0 < deleted < len(dates) and left[1] == len(dates) - deleted
    assert pd.Timestamp(left[0]) >= pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=days + 1)
    assert run["items"]["analysed"] == left[1]
    assert log[0][0] == "retention" and json.loads(log[0][1])["items"] == deleted
