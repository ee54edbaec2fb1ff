import json

import pytest

pytestmark = pytest.mark.slow


def test_backfill_run_ingests_and_embeds_only_and_the_next_run_analyses_without_re_embedding(
    prefect_harness, small_project
):
    from flows.nightly import nightly
    from flows.params import RunParameters
    from vocflow.settings import load_settings
    from vocflow.store import Store

    root = small_project["root"]
    backfill = nightly(RunParameters(analyse=False))
    assert backfill["mode"] == "backfill"
    assert backfill["items"]["ingested_new"] > 250
    assert not (root / "reports" / "latest" / "report.html").exists()
    settings = load_settings()
    with Store.open(settings) as store:
        distinct = store.con.execute("SELECT count(DISTINCT text_hash) FROM items").fetchone()
        assert backfill["texts_embedded"] == distinct[0]
        runs = dict(store.con.execute("SELECT run_id, status FROM runs").fetchall())
        languages = {
            r[0] for r in store.con.execute("SELECT DISTINCT language FROM items").fetchall()
        }
    assert runs[backfill["run_id"]] == "backfilled"
    assert {"ko", "en"} <= languages

    analysed = nightly(RunParameters(top_n=3))
    assert analysed["items"]["ingested_new"] == 0
    assert analysed["texts_embedded"] == 0  # every item text came from the backfill
    assert analysed["texts_classified"] == analysed["items"]["analysed"]
    run = json.loads((root / "reports" / "latest" / "run.json").read_text(encoding="utf-8"))
    assert run["run_id"] == analysed["run_id"]
