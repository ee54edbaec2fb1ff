"""Planted issue: a real complaint theme concentrated into the last 3 days of a steady stream.

Data: real banking77 customer queries (PolyAI, CC BY 4.0, ../shared/data/banking77). Eight
intents form a steady stream: each of their queries gets a uniformly random day among 60.
The planted intent, ``card_arrival`` ("I still haven't received my card"), keeps a trickle of
12 queries spread over the first 57 days and has its other 60 queries moved into the last 3.

banking77 has no scores, and none is invented here: the ranking runs on what the pipeline
measures without them (negative volume from the sentiment model, and the trend). The nightly
flow must flag the planted theme as emerging, rank it in the top 3 and emit its Prefect event,
and must not flag the steady themes.
"""

import csv
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from connectors.schema import item_key

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BANKING = REPO.parent / "shared" / "data" / "banking77"
PLANTED = "card_arrival"
STEADY = (
    "exchange_rate",
    "lost_or_stolen_phone",
    "apple_pay_or_google_pay",
    "age_limit",
    "terminate_account",
    "change_pin",
    "atm_support",
    "country_support",
)
PER_STEADY, PLANTED_RECENT, PLANTED_TRICKLE = 80, 60, 12
DAYS = 60
START = datetime(2026, 5, 1, tzinfo=UTC)


def _write_stream(path: Path) -> dict[str, str]:
    """Writes the CSV; returns external id -> intent."""
    rows = []
    for name in ("train.csv", "test.csv"):
        with (BANKING / name).open(encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    rng = random.Random(7)
    by_intent: dict[str, list[str]] = {}
    for row in rows:
        by_intent.setdefault(row["category"], []).append(row["text"])
    out, intents = [], {}

    def add(text: str, intent: str, day: int) -> None:
        ext = f"q{len(out):04d}"
        stamp = START + timedelta(days=day, seconds=rng.randrange(86_400))
        platform = rng.choice(["ios", "android"])
        out.append({"id": ext, "text": text, "date": stamp.isoformat(), "platform": platform})
        intents[ext] = intent

    for intent in STEADY:
        for text in rng.sample(by_intent[intent], PER_STEADY):
            add(text, intent, rng.randrange(DAYS))
    planted = rng.sample(by_intent[PLANTED], PLANTED_RECENT + PLANTED_TRICKLE)
    for i, text in enumerate(planted):
        recent = i < PLANTED_RECENT
        add(text, PLANTED, DAYS - 3 + rng.randrange(3) if recent else rng.randrange(DAYS - 3))
    out.sort(key=lambda r: r["date"])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "date", "platform"])
        writer.writeheader()
        writer.writerows(out)
    return intents


@pytest.fixture
def planted_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    data = tmp_path / "data"
    data.mkdir()
    intents = _write_stream(data / "bank.csv")
    base = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    base["sources"] = [
        {
            "name": "bank-chat",
            "kind": "file",
            "description": "banking77 queries on a synthetic timeline (planted issue)",
            "options": {
                "path": "data/bank.csv",
                "channel": "ticket",
                "cursor_column": "date",
                "language": "en",
                "columns": {
                    "id": "id",
                    "text": "text",
                    "created_at": "date",
                    "segment": ["platform"],
                },
            },
        }
    ]
    base["themes"]["min_theme_size"] = 15
    base["analysis"].update(
        {"n_bootstrap": 200, "trend_recent_days": 3, "trend_baseline_days": 28, "languages": ["en"]}
    )
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text(yaml.safe_dump(base, allow_unicode=True), "utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    monkeypatch.setenv("VOCFLOW_CUSTOMER_KEY_SALT", "test-salt")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return {"root": tmp_path, "intents": intents}


def test_planted_issue_is_flagged_and_ranked(
    prefect_harness: None, planted_project: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.nightly as nightly_module
    from flows.params import RunParameters
    from vocflow.settings import load_settings
    from vocflow.store import Store

    events: list[dict[str, object]] = []
    monkeypatch.setattr(nightly_module, "emit_event", lambda **kw: events.append(kw))
    summary = nightly_module.nightly(RunParameters(top_n=5))

    intents: dict[str, str] = planted_project["intents"]  # type: ignore[assignment]
    with Store(load_settings().store_file, read_only=True) as store:
        assigned = store.con.execute(
            "SELECT item_key, theme_id FROM item_themes WHERE run_id = ?", [summary["run_id"]]
        ).df()
    theme_of = dict(zip(assigned["item_key"], assigned["theme_id"], strict=True))
    members: dict[int, Counter[str]] = {}
    for ext, intent in intents.items():
        members.setdefault(int(theme_of[item_key("bank-chat", ext)]), Counter())[intent] += 1
    planted_counts = Counter({t: c[PLANTED] for t, c in members.items() if t >= 0 and c[PLANTED]})
    planted_theme, held = planted_counts.most_common(1)[0]
    assert held >= 0.6 * (PLANTED_RECENT + PLANTED_TRICKLE)  # the theme model found the intent

    latest = planted_project["root"] / "reports" / "latest"  # type: ignore[operator]
    table = pd.read_csv(latest / "pain_points.csv").set_index("theme_id")
    row = table.loc[planted_theme]
    assert bool(row["emerging"])
    assert row["trend_status"] in ("new", "spike")
    assert row["rank"] <= 3, table[["rank", "label", "pain_score", "rank_reason"]]
    assert row["rank_reason"].startswith(f"rank {row['rank']}: ")
    # Every flagged theme is made of planted queries; themes of steady intents are not flagged.
    for theme_id, flagged in table["emerging"].items():
        counts = members[int(theme_id)]
        assert bool(flagged) == (counts[PLANTED] > 0.5 * sum(counts.values())), (theme_id, counts)
    steady_theme = max(
        (t for t in members if t >= 0 and t != planted_theme),
        key=lambda t: members[t]["exchange_rate"],
    )
    assert not bool(table.loc[steady_theme, "emerging"])
    assert table.loc[steady_theme, "trend_status"] == "steady"
    # The alert reached Prefect's event API (captured here) and the report sections.
    emerging_labels = {str(e["payload"]["label"]) for e in events}  # type: ignore[index]
    assert row["label"] in emerging_labels
    assert {e["event"] for e in events} == {"vocflow.theme.emerging"}
    assert summary["emerging"]
    markdown = (latest / "report.md").read_text(encoding="utf-8")
    assert "## Emerging issues" in markdown
    for column in ("primary_ci_low", "rank_reason", "trend_status", "weekly_volume", "top_segment"):
        assert column in table.columns
    assert (latest / "theme_trends.csv").is_file()
    assert (latest / "followup.csv").is_file()
    print(  # the figures the closing note quotes (pytest -s)
        table[["rank", "label", "volume", "negative_share", "trend_status", "trend_recent",
               "trend_expected", "pain_score"]].sort_values("rank").to_string()
    )  # fmt: skip
