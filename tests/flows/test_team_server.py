"""`vocflow team-server`: Prefect server on a throwaway PostgreSQL, process pool, worker, a real run.

The end-to-end test runs the real `nightly` deployment (ingest -> embed -> sentiment -> themes
-> report) through the worker over 40 demo rows, and reads the finished run back from
PostgreSQL itself.
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import yaml

from tests.postgres import PASSWORD, USER, PostgresServer, closed_port, start_or_fail
from vocflow import team_server

REPO = Path(__file__).resolve().parents[2]
VOCFLOW = str(Path(sys.executable).with_name("vocflow"))
DATABASE = "prefect_team"
POOL = "vocflow-test-pool"
CRON = "30 3 * * 1-5"  # the nightly deployment takes its schedule from the config


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_or_fail()
    try:
        with psycopg.connect(_dsn(server, "postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        yield server
    finally:
        server.stop()


def _dsn(server: PostgresServer, database: str) -> str:
    return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{server.port}/{database}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sample(src: Path, dst: Path, n: int, delimiter: str) -> None:
    with src.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    picked = rows[:: max(1, len(rows) // n)][:n]
    with dst.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(picked)


def _tiny_project(root: Path) -> Path:
    """Config over 20 English + 20 Korean demo rows with the cheapest analysis settings."""
    (root / "data").mkdir(parents=True)
    _sample(REPO / "data/demo/skytrax_seat_reviews.csv", root / "data/sky.csv", 20, ",")
    _sample(REPO / "data/demo/nsmc_reviews_ko.tsv", root / "data/ko.tsv", 20, "\t")
    config = yaml.safe_load((REPO / "configs/vocflow.yaml").read_text(encoding="utf-8"))
    config["sources"][0]["options"]["path"] = "data/sky.csv"
    config["sources"][1]["options"]["path"] = "data/ko.tsv"
    config["themes"]["min_theme_size"] = 3
    config["analysis"]["n_bootstrap"] = 100
    config["schedule"]["cron"] = CRON
    (root / "configs").mkdir()
    (root / "configs/vocflow.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return root / "configs"


# --- clear errors (no Prefect server started) --------------------------------------------


def test_credentials_come_from_the_environment_only() -> None:
    env = {team_server.DB_PASSWORD_ENV: "s3cret"}
    url = team_server.database_url("postgresql://team@db.internal:5433/prefect", env)
    assert url.drivername == "postgresql+asyncpg" and url.password == "s3cret"
    assert "s3cret" not in team_server.redacted(url)
    whole = {team_server.DB_URL_ENV: "postgres://team:pw@db:5432/prefect"}
    assert team_server.database_url(None, whole).password == "pw"
    with pytest.raises(team_server.TeamServerError, match="holds a password"):
        team_server.database_url("postgresql://team:pw@db/prefect", {})
    with pytest.raises(team_server.TeamServerError, match="no database"):
        team_server.database_url(None, {})
    with pytest.raises(team_server.TeamServerError, match="needs PostgreSQL"):
        team_server.database_url("sqlite:///prefect.db", {})


def test_clear_errors_for_unreachable_database_wrong_password_and_taken_port(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    def up(url: str, port: int, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, team_server.DB_PASSWORD_ENV: password}
        return subprocess.run(
            [VOCFLOW, "team-server", "up", "--database-url", url, "--port", str(port),
             "--state-dir", str(tmp_path / "state")],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    db = f"postgresql://{USER}@127.0.0.1:{postgres.port}/{DATABASE}"
    unreachable = up(f"postgresql://{USER}@127.0.0.1:{closed_port()}/{DATABASE}", _free_port())
    assert unreachable.returncode == 1 and "PostgreSQL unreachable" in unreachable.stderr
    wrong = up(db, _free_port(), password="not-the-password")
    assert wrong.returncode == 1 and "rejected the password" in wrong.stderr
    assert "not-the-password" not in wrong.stdout + wrong.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = up(db, taken.getsockname()[1])
    assert busy.returncode == 1 and "is taken" in busy.stderr
    assert not (tmp_path / "state" / team_server.STATE_FILE).exists()  # nothing started


# --- the whole stack ---------------------------------------------------------------------


@pytest.mark.slow
def test_team_server_runs_the_nightly_deployment_on_postgres(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    state_dir = tmp_path / "state"
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    configs = _tiny_project(tmp_path / "project")
    env = {
        **os.environ,
        "VOCFLOW_CONFIG_DIR": str(configs),  # the worker's flow runs inherit it
        "VOCFLOW_CUSTOMER_KEY_SALT": "team-server-test-salt",
        team_server.DB_PASSWORD_ENV: PASSWORD,
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # the worker polls every 2 s instead of 10
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    env.pop("PREFECT_API_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [VOCFLOW, "team-server", *args, "--state-dir", str(state_dir)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    def logs() -> str:
        return "\n".join(
            f"--- {name}\n{team_server.tail(state_dir / name, 40)}"
            for name in ("server.log", "worker.log")
        )

    pids: list[int | None] = []
    try:
        database = f"postgresql://{USER}@127.0.0.1:{postgres.port}/{DATABASE}"
        started = cli(
            "up", "--database-url", database, "--port", str(port), "--pool", POOL,
            "--project-dir", str(REPO),
        )  # fmt: skip
        state = team_server.read_state(state_dir)
        pids = [state.server_pid, state.worker_pid] if state else []
        assert started.returncode == 0, started.stdout + started.stderr + logs()
        assert state and state.api_url == api_url and state.pool == POOL
        assert PASSWORD not in started.stdout + started.stderr
        assert PASSWORD not in (state_dir / team_server.STATE_FILE).read_text()
        assert "***" in state.database

        shown = cli("status")
        report = json.loads(shown.stdout)
        assert shown.returncode == 0 and report["healthy"] and report["worker"]["running"]
        again = cli("up", "--database-url", database, "--port", str(_free_port()))
        assert again.returncode == 1 and "already up" in again.stderr
        assert team_server.ensure_work_pool(api_url, POOL) is False  # idempotent

        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            with get_client(sync_client=True) as client:
                nightly = client.read_deployment_by_name("vocflow-nightly/nightly")
                rerun = client.read_deployment_by_name("vocflow-nightly/rerun-slice")
                assert nightly.work_pool_name == POOL and rerun.work_pool_name == POOL
                crons = [getattr(s.schedule, "cron", None) for s in nightly.schedules]
                assert crons == [CRON]
                assert rerun.schedules == [] and rerun.parameters["params"]["ingest"] is False
                run = run_deployment("vocflow-nightly/nightly", timeout=0)
                deadline = time.monotonic() + 240
                flow_run = client.read_flow_run(run.id)
                while not (flow_run.state and flow_run.state.is_final()):
                    assert time.monotonic() < deadline, f"run not finished in 240 s\n{logs()}"
                    time.sleep(2)
                    flow_run = client.read_flow_run(run.id)
        assert flow_run.state and flow_run.state.is_completed(), f"{flow_run.state}\n{logs()}"
        # The report of this flow run, where the temporary config says (run id ends in its id).
        assert list((tmp_path / "project/reports").glob(f"*-{str(run.id)[:8]}/report.html"))

        # The run and the pool live in PostgreSQL itself.
        with psycopg.connect(_dsn(postgres, DATABASE)) as connection:
            row = connection.execute(
                "SELECT f.state_type, d.name FROM flow_run f "
                "JOIN deployment d ON d.id = f.deployment_id WHERE f.id = %s",
                (run.id,),
            ).fetchone()
            pool = connection.execute(
                "SELECT type, concurrency_limit FROM work_pool WHERE name = %s", (POOL,)
            ).fetchone()
        assert row == ("COMPLETED", "nightly")
        assert pool == ("process", 1)  # runs queue: one DuckDB writer at a time

        stopped = cli("down")
        assert stopped.returncode == 0, stopped.stderr
        assert not any(team_server.group_alive(pid) for pid in pids)
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{api_url}/health", timeout=5)
        assert cli("status").returncode == 1
    finally:
        team_server.down(state_dir, say=lambda _: None)
        for pid in pids:  # whatever `down` could not stop
            team_server.stop_group(pid, signal.SIGKILL, timeout=10)
