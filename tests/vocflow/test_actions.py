import json
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from connectors.schema import hash_customer
from nlp.protocols import ThemeResult
from outputs.analytics import AnalysisOptions
from outputs.report import Report, ThemeInfo, build_report
from tests.store_targets import postgres_store_server, store_target  # noqa: F401
from vocflow.actions import (
    action_id_for,
    add_action,
    forget_customer_status,
    import_actions,
    import_customer_status,
    list_actions,
    load_churn_status,
    remove_action,
)
from vocflow.alerts import EVENT_NAME, alerts_markdown, emerging_alerts
from vocflow.painpoints import analysis_options, bundle_tables
from vocflow.reporting import ranking_frame
from vocflow.settings import AnalysisSettings
from vocflow.store import Store


@pytest.fixture
def store(store_target: Path | str):  # noqa: F811 - imported fixture
    with Store(store_target) as s:
        yield s


def test_action_log_add_list_remove(store: Store) -> None:
    logged = add_action(
        store, theme="card delivery", action="Switched courier", action_date=date(2026, 11, 2),
        owner="Ops", link="https://tickets.example/OPS-12", controls=["refunds", " "],
    )  # fmt: skip
    assert logged.action_id == action_id_for("card delivery", "Switched courier", date(2026, 11, 2))
    assert logged.controls == ["refunds"]
    again = add_action(
        store, theme="Card Delivery ", action="Switched courier", action_date=date(2026, 11, 2)
    )
    # Same theme (case and spaces aside), action and date: the same entry, replaced.
    assert again.action_id == logged.action_id
    assert [a.owner for a in list_actions(store)] == [""]
    assert remove_action(store, logged.action_id)
    assert not remove_action(store, logged.action_id)
    assert list_actions(store) == []
    with pytest.raises(ValueError, match="needs a theme"):
        add_action(store, theme=" ", action="x", action_date=date(2026, 1, 1))


def test_import_actions_from_csv_and_yaml_is_idempotent(store: Store, tmp_path: Path) -> None:
    csv_path = tmp_path / "actions.csv"
    csv_path.write_text(
        "theme,action,date,owner,link,controls\n"
        "card delivery,New courier,2026-11-02,Ops,https://x.example/1,refunds;app\n"
        "refunds,Faster refunds,2026-10-20,Finance,,\n",
        encoding="utf-8",
    )
    first = import_actions(store, csv_path)
    import_actions(store, csv_path)
    stored = list_actions(store)
    assert len(stored) == 2 == len(first)
    assert [a.theme for a in stored] == ["refunds", "card delivery"]  # by date
    assert stored[1].controls == ["refunds", "app"]
    yaml_path = tmp_path / "actions.yaml"
    yaml_path.write_text(
        "- {theme: app crashes, action: Hotfix 2.3.1, action_date: 2026-11-05, action_id: hf}\n",
        encoding="utf-8",
    )
    assert [a.action_id for a in import_actions(store, yaml_path)] == ["hf"]
    bad = tmp_path / "bad.csv"
    bad.write_text("theme,action,date\nx,y,not-a-date\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 1"):
        import_actions(store, bad)
    with pytest.raises(ValueError, match="unsupported file type"):
        import_actions(store, tmp_path / "a.txt")


def test_customer_status_is_hashed_with_the_salt(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "status.csv"
    path.write_text("customer_id,status\nAlice@Example.com,churned\nbob,active\n", encoding="utf-8")
    assert import_customer_status(store, path, "salt") == 2
    status = load_churn_status(store)
    assert status == {
        hash_customer("alice@example.com", "salt"): True,
        hash_customer("bob", "salt"): False,
    }
    # Raw ids never reach the store.
    rows = store.con.execute("SELECT * FROM customer_status").fetchall()
    assert "Alice" not in json.dumps(rows, default=str)
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,status\nx,maybe\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown customer status"):
        import_customer_status(store, bad, "salt")
    # Erasure: the status goes, and a re-import does not bring a forgotten customer back.
    alice = hash_customer("alice@example.com", "salt")
    assert forget_customer_status(store, alice) == 1
    store.con.execute("CREATE TABLE erased_customers (customer_key VARCHAR, erased_at TIMESTAMPTZ)")
    store.con.execute("INSERT INTO erased_customers VALUES (?, now())", [alice])
    assert import_customer_status(store, path, "salt") == 1
    assert alice not in load_churn_status(store)


def test_cli_actions_add_list_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vocflow.cli import app

    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "vocflow.yaml").write_text("store_path: s.duckdb\n", encoding="utf-8")
    monkeypatch.setenv("VOCFLOW_CONFIG_DIR", str(configs))
    runner = CliRunner()
    added = runner.invoke(
        app, ["actions", "add", "refunds", "Faster refunds", "--date", "2026-10-20",
              "--owner", "Finance"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["actions", "list"])
    assert "Faster refunds" in listed.output and "2026-10-20" in listed.output
    missing = runner.invoke(app, ["actions", "import", str(tmp_path / "none.csv")])
    assert missing.exit_code != 0


def _report() -> tuple[pd.DataFrame, Report]:
    rows = []
    for d in range(35):
        day = f"2026-10-{1 + d:02d}" if d < 31 else f"2026-11-{d - 30:02d}"
        for theme in range(4):
            rows += [(day, theme)] * 4
        if d >= 32:
            rows += [(day, 4)] * 6
    frame = pd.DataFrame(rows, columns=["day", "theme_id"])
    n = len(frame)
    frame = frame.assign(
        item_key=[f"i{i}" for i in range(n)], text="t", source="s", channel="review",
        language="en", url=None, score=np.nan, score_type=None, sentiment="negative",
        created_at=pd.to_datetime(frame["day"] + "T08:00:00Z", utc=True),
        customer_key=[f"k{i % 7}" for i in range(n)],
    ).drop(columns="day")  # fmt: skip
    themes = [ThemeInfo(theme_id=t, label=f"theme {t}") for t in range(4)]
    themes.append(ThemeInfo(theme_id=4, label="Card arrival <b>"))
    options = AnalysisOptions(recent_days=3)
    return frame, build_report(frame, themes, run_id="r9", n_boot=50, options=options)


def test_emerging_alert_events() -> None:
    _, report = _report()
    alerts = emerging_alerts(report)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.event == EVENT_NAME == "vocflow.theme.emerging"
    assert alert.resource["prefect.resource.id"] == "vocflow.theme.card-arrival-b"
    assert alert.resource["vocflow.status"] == "new"
    assert alert.payload["recent"] == 18
    # Four big chronic themes (140 negative items each) outrank the small new one.
    assert alert.payload["rank"] == report.emerging[0].rank == 5
    assert alert.payload["recent_window"] == ["2026-11-02", "2026-11-05"]
    text = alerts_markdown(alerts)
    assert text.startswith("# Emerging issues\n")
    assert "<b>" not in text and "Card arrival &lt;b&gt;" in text
    json.dumps([a.payload for a in alerts])  # event payloads must be JSON


def test_bundle_tables_and_options() -> None:
    frame, report = _report()
    tables = bundle_tables(frame, report)
    trends = tables["theme_trends.csv"]
    assert list(trends.columns[:3]) == ["period", "theme_id", "label"]
    assert trends["volume"].sum() == len(frame)
    follow = tables["followup.csv"]
    assert len(follow) == len(frame)  # every item is negative and unscored
    assert follow["rank"].iloc[0] == 1
    assert follow["rank"].is_monotonic_increasing
    options = analysis_options(AnalysisSettings(csat_convention="mean", segment_columns=["x"]))
    assert options.csat == "mean" and options.segment_columns == ("x",)


def test_ranking_frame_adds_segment_and_customer_columns() -> None:
    stored = pd.DataFrame(
        {
            "item_key": ["a", "b"], "text_clean": ["x", "y"], "source": "s",
            "channel": "review", "language": "en",
            "created_at": [datetime(2026, 1, 1, tzinfo=UTC)] * 2, "url": None,
            "score": [9.0, None], "score_type": ["nps", None], "product": ["P", None],
            "customer_key": ["k1", None],
            "segment": [json.dumps({"country": "KR"}), json.dumps({"plan": "pro"})],
        }
    )  # fmt: skip
    result = ThemeResult(np.array([0, -1]), [], 0.0, 0.0)
    frame = ranking_frame(stored, pd.Series(["positive", "negative"]), result)
    assert frame["segment.country"].tolist() == ["KR", None]
    assert frame["segment.plan"].tolist() == [None, "pro"]
    assert frame["customer_key"].tolist() == ["k1", None]
    assert frame["theme_id"].tolist() == [0, -1]
