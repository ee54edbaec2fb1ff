"""Prints what a conformance run shows per connector: items, batches, retries, duplicates.

Run: ``.venv/bin/python -m tests.connectors.contract.figures``. For each HTTP connector it
starts the contract fake on 127.0.0.1, injects a 429 with ``Retry-After``, two 503s, a slow
response and a dropped connection, then a permanent 500 on the second page; ingests into a
temporary store (fails), clears the faults, ingests again (resumes), and counts. All data is
synthetic; waits are recorded, not slept.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from connectors.base import ConnectorError
from tests.connectors.contract.kits import KITS
from tests.connectors.contract.server import ContractServer, Fault
from vocflow.ingest import ingest_source
from vocflow.store import Store


def main() -> None:
    """Runs every kit once with faults and prints one line per connector."""
    header = f"{'connector':12} {'items':>5} {'batches':>7} {'requests':>8} {'retries':<50} "
    print(header + f"{'waited_s':>8} {'after_fail':>10} {'stored':>6} {'duplicates':>10}")
    for kit in KITS:
        os.environ[kit.env_var[0]] = kit.env_var[1]
        waits: list[float] = []
        with tempfile.TemporaryDirectory() as tmp, ContractServer(kit.make_app()) as server:
            options = kit.options(server.url)
            options["retry"] = {**options["retry"], "timeout": 0.25}
            connector = kit.make(f"{kit.kind}-figures", options, waits.append)
            for fault in (
                Fault("429", path=kit.stream_path, nth=2, retry_after="3"),
                Fault("503", path=kit.stream_path, nth=3, times=2),
                Fault("slow", path=kit.stream_path, nth=6, delay=0.5),
                Fault("drop", path=kit.stream_path, nth=8),
            ):
                server.inject(fault)
            with Store(Path(tmp) / "v.duckdb") as store:
                first = ingest_source(connector, store, "run-1")
                retries = dict(connector.client.stats.retries) if connector.client else {}
                requests = connector.client.stats.requests if connector.client else 0
                server.clear_faults()
            # A second, empty store: the second page fails for good, then the run resumes.
            with Store(Path(tmp) / "resume.duckdb") as store:
                server.inject(Fault("500", path=kit.stream_path, nth=2, times=-1))
                try:
                    ingest_source(connector, store, "run-2-fails")
                except ConnectorError:
                    pass
                partial = store.count_items()
                server.clear_faults()
                resumed = ingest_source(connector, store, "run-3-resumes")
                keys = store.con.execute("SELECT external_id FROM items").fetchall()
                duplicates = len(keys) - len({k[0] for k in keys})
            line = f"{kit.kind:12} {first.new:>5} {first.batches:>7} {requests:>8} "
            print(
                line + f"{retries!s:<50} {sum(waits):>8.3f} {partial:>10} "
                f"{partial + resumed.new:>6} {duplicates:>10}"
            )
    print(
        "items/batches/requests/retries/waited_s: first run with faults. after_fail: items "
        "stored when a permanent 500 hit the second request of the stream (0 where the API "
        "lists newest first and nothing is yielded before the listing is complete). stored: "
        "after the resumed run. duplicates: external ids stored twice."
    )


if __name__ == "__main__":
    main()
