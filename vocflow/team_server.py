"""Team deployment: a Prefect server on PostgreSQL, a process work pool and its worker.

``vocflow team-server up`` checks the database, starts ``prefect server start`` against it,
waits for ``/api/health``, creates the ``process`` work pool (idempotent), registers the
``nightly`` (cron from the settings) and ``rerun-slice`` (ad hoc) deployments on that pool from
the project directory (no image, no git remote: the worker runs the code in place) and starts
``prefect worker start --pool <pool> --type process``. Process ids, ports and log files go to
``<state-dir>/team-server.json``; ``down`` stops the worker, then the server; ``status`` says
what runs. See docs/team-deployment.md.

The database password comes from the environment only (``VOCFLOW_PREFECT_DB_URL`` or
``VOCFLOW_PREFECT_DB_PASSWORD``); it reaches the server through its environment, never its
command line, and is never printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any, cast

import typer

DB_URL_ENV = "VOCFLOW_PREFECT_DB_URL"
DB_PASSWORD_ENV = "VOCFLOW_PREFECT_DB_PASSWORD"  # noqa: S105 - the name of a variable
DEFAULT_POOL = "vocflow-process"
DEFAULT_STATE_DIR = Path(".vocflow/team-server")
STATE_FILE = "team-server.json"
FLOW_ENTRYPOINT = "flows/nightly.py:nightly"

team_app = typer.Typer(
    help="Team deployment: Prefect server on PostgreSQL + process work pool and worker."
)


class TeamServerError(RuntimeError):
    """A problem the operator can fix; the message says what to do."""


@dataclass
class TeamState:
    """What ``up`` started (``<state-dir>/team-server.json``).

    Attributes:
        api_url: Prefect API of the server (``http://host:port/api``).
        pool: Work pool the deployments and the worker use.
        database: Database URL without its password.
        server_pid: Process id of ``prefect server start`` (its own process group).
        worker_pid: Process id of ``prefect worker start`` (its own process group).
        server_log: Server log file.
        worker_log: Worker log file.
        prefect_home: ``PREFECT_HOME`` of the server and the worker.
        deployments: ``flow/deployment`` names registered on the pool.
    """

    api_url: str
    pool: str
    database: str
    server_pid: int
    worker_pid: int | None
    server_log: str
    worker_log: str
    prefect_home: str
    deployments: list[str]


# --- database URL -------------------------------------------------------------------------


def database_url(cli_url: str | None, environ: dict[str, str] | None = None) -> Any:
    """The Prefect database URL (SQLAlchemy ``URL``, asyncpg driver) from option or env.

    Args:
        cli_url: ``--database-url``: must not hold a password (command lines show in ``ps``
            and shell history); the password comes from ``VOCFLOW_PREFECT_DB_PASSWORD``.
        environ: Environment (default ``os.environ``); ``VOCFLOW_PREFECT_DB_URL`` may hold
            the whole URL, password included, when no option is given.

    Returns:
        ``postgresql+asyncpg://user:password@host:port/database``.

    Raises:
        TeamServerError: No URL, not PostgreSQL, or a password on the command line.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    env = os.environ if environ is None else environ
    raw = cli_url or env.get(DB_URL_ENV)
    if not raw:
        raise TeamServerError(
            f"no database: pass --database-url postgresql://USER@HOST:PORT/DB (password in "
            f"{DB_PASSWORD_ENV}) or set {DB_URL_ENV}"
        )
    try:
        url = make_url(raw)
    except ArgumentError as error:
        raise TeamServerError(f"not a database URL: {error}") from None
    if url.get_backend_name() not in {"postgresql", "postgres"}:
        raise TeamServerError(
            f"the team server needs PostgreSQL, not {url.get_backend_name()!r} "
            "(SQLite locks under several writers)"
        )
    if cli_url and url.password:
        raise TeamServerError(
            f"--database-url holds a password: leave it out and set {DB_PASSWORD_ENV} "
            f"(or put the whole URL in {DB_URL_ENV})"
        )
    if env.get(DB_PASSWORD_ENV):
        url = url.set(password=env[DB_PASSWORD_ENV])
    if not url.database:
        raise TeamServerError("the database URL names no database (…/DATABASE)")
    return url.set(drivername="postgresql+asyncpg")


def redacted(url: Any) -> str:
    """The URL with its password shown as ``***``."""
    return str(url.render_as_string(hide_password=True))


async def _probe(url: Any, timeout: float) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
        timeout=timeout,
    )
    try:
        # Prefect's migrations create pg_trgm (a trusted extension: the database owner may).
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    finally:
        await connection.close()


def check_database(url: Any, timeout: float = 10.0) -> None:
    """Connects once, so that a bad URL fails here with a clear message, not in server logs.

    Raises:
        TeamServerError: Unreachable, wrong password, unknown database or role, or no right
            to create the ``pg_trgm`` extension.
    """
    import asyncpg

    where = f"{url.host or '127.0.0.1'}:{url.port or 5432}"
    try:
        asyncio.run(_probe(url, timeout))
    except asyncpg.InvalidPasswordError:
        raise TeamServerError(
            f"PostgreSQL at {where} rejected the password of user {url.username!r}: check "
            f"{DB_PASSWORD_ENV} / {DB_URL_ENV}"
        ) from None
    except asyncpg.InvalidCatalogNameError:
        raise TeamServerError(
            f"database {url.database!r} does not exist on {where}: "
            f"createdb -O {url.username} {url.database}"
        ) from None
    except asyncpg.InvalidAuthorizationSpecificationError as error:
        raise TeamServerError(f"PostgreSQL at {where} refused the login: {error}") from None
    except asyncpg.InsufficientPrivilegeError:
        raise TeamServerError(
            f"user {url.username!r} may not create the pg_trgm extension in "
            f"{url.database!r}: as a superuser run `CREATE EXTENSION pg_trgm;` there"
        ) from None
    except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as error:
        raise TeamServerError(
            f"PostgreSQL unreachable at {where} ({type(error).__name__}: {error}): is it "
            "running and listening there?"
        ) from None


# --- processes ----------------------------------------------------------------------------


def check_port_free(host: str, port: int) -> None:
    """Raises TeamServerError when something already listens on ``host:port``."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise TeamServerError(
                f"port {port} on {host} is taken ({error.strerror}): another Prefect server? "
                "Pick another with --port"
            ) from None


def base_env(prefect_home: Path, api_url: str | None) -> dict[str, str]:
    """Environment of the server and the worker: offline, own PREFECT_HOME, the API URL."""
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The server writes its UI build here instead of into site-packages.
        "PREFECT_UI_STATIC_DIRECTORY": str(prefect_home / "ui"),
    }
    for name in (DB_URL_ENV, DB_PASSWORD_ENV, "PREFECT_API_DATABASE_CONNECTION_URL"):
        env.pop(name, None)  # only the server gets the database, and under its own name
    env.pop("PREFECT_API_URL", None)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


def _prefect() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def spawn(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Starts ``args`` in its own process group (stopped as a group), output to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - fixed argument list
            args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def tail(log: Path, lines: int = 25) -> str:
    """The last lines of a log file (for error messages)."""
    if not log.exists():
        return ""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def wait_healthy(api_url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Polls ``<api>/health`` until it answers; fails early when the server process exits."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise TeamServerError(
                f"the Prefect server exited with code {process.returncode}; log {log}:\n"
                + tail(log)
            )
        try:
            if httpx.get(f"{api_url}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TeamServerError(f"the Prefect server did not answer within {timeout:.0f} s; log {log}")


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (and is not a zombie)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _proc_stat(pid)
    return fields is None or fields[0] != "Z"


def group_alive(pgid: int | None) -> bool:
    """Whether any live (non-zombie) process is left in process group ``pgid``."""
    if not pgid:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        fields = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
        # After the state come ppid, then pgrp.
        if fields and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def stop_group(pgid: int | None, first: signal.Signals, timeout: float = 30.0) -> None:
    """Sends ``first`` to process group ``pgid``, then SIGKILL to what is left after ``timeout``.

    ``spawn`` starts each process as the leader of its own group, so the group id is its pid
    and the group holds its children too (uvicorn, flow-run processes).
    """
    for sig in (first, signal.SIGKILL):
        if not group_alive(pgid):
            return
        assert pgid is not None
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:  # reaps the leader when it is our child (tests)
                os.waitpid(pgid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not group_alive(pgid):
                return
            time.sleep(0.2)


# --- Prefect objects ----------------------------------------------------------------------


async def _ensure_pool(name: str, concurrency: int | None) -> bool:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    async with get_client() as client:
        try:
            await client.create_work_pool(
                WorkPoolCreate(
                    name=name,
                    type="process",
                    base_job_template=ProcessWorker.get_default_base_job_template(),
                    concurrency_limit=concurrency,
                )
            )
        except ObjectAlreadyExists:
            if concurrency is not None:
                await client.update_work_pool(name, WorkPoolUpdate(concurrency_limit=concurrency))
            return False
        return True


def ensure_work_pool(api_url: str, name: str, concurrency: int | None = None) -> bool:
    """Creates the ``process`` work pool ``name`` unless it exists; True when created.

    ``concurrency`` (most flow runs at once over all its workers) is set on an existing pool
    too; None leaves it as it is.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        return asyncio.run(_ensure_pool(name, concurrency))


def register_deployments(api_url: str, pool: str, project_dir: Path) -> list[str]:
    """Registers ``nightly`` (cron) and ``rerun-slice`` (ad hoc) on ``pool`` from ``project_dir``.

    The flow comes from the project directory itself (``flow.from_source`` with a local path):
    its pull step sets the run's working directory there, so the worker needs the same checkout
    and virtual environment at that path. Deployment names, schedule, descriptions and defaults
    are those of ``vocflow serve`` (flows/serve.py).

    Returns:
        ``flow/deployment`` names.
    """
    from prefect import deploy
    from prefect.deployments.runner import RunnerDeployment
    from prefect.flows import Flow
    from prefect.schedules import Cron
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.params import RunParameters
    from flows.serve import NIGHTLY_DESCRIPTION, RERUN_DEPLOYMENT, RERUN_DESCRIPTION
    from vocflow.settings import load_settings

    settings = load_settings()
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        # Sync here (no running event loop); the cast narrows its async union.
        source = cast(
            Flow[..., Any],
            Flow.from_source(source=str(project_dir.resolve()), entrypoint=FLOW_ENTRYPOINT),
        )
        schedule = settings.schedule
        nightly: Any = source.to_deployment(
            name=schedule.deployment_name,
            schedules=[Cron(schedule.cron, timezone=schedule.timezone)],
            description=NIGHTLY_DESCRIPTION,
            tags=["vocflow", "nightly"],
        )
        rerun: Any = source.to_deployment(
            name=RERUN_DEPLOYMENT,
            description=RERUN_DESCRIPTION,
            parameters={"params": RunParameters(ingest=False).model_dump(mode="json")},
            tags=["vocflow", "ad-hoc"],
        )
        deployments: list[RunnerDeployment] = [nightly, rerun]
        deploy(
            *deployments,
            work_pool_name=pool,
            build=False,
            push=False,
            print_next_steps_message=False,
            ignore_warnings=True,
        )
    return [f"{d.flow_name}/{d.name}" for d in deployments]


# --- state file ---------------------------------------------------------------------------


def read_state(state_dir: Path) -> TeamState | None:
    """The state ``up`` wrote, or None."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    return TeamState(**json.loads(path.read_text(encoding="utf-8")))


def write_state(state_dir: Path, state: TeamState) -> None:
    """Writes the state file (no secrets in it: the database URL is redacted)."""
    path = state_dir / STATE_FILE
    path.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")


# --- commands -----------------------------------------------------------------------------


@dataclass
class UpOptions:
    """Options of ``up`` (see the command's help)."""

    host: str = "127.0.0.1"
    port: int = 4200
    pool: str = DEFAULT_POOL
    state_dir: Path = DEFAULT_STATE_DIR
    project_dir: Path = Path()
    worker_limit: int | None = None
    pool_concurrency: int | None = 1
    startup_timeout: float = 180.0


def up(url: Any, options: UpOptions, say: Any = print) -> TeamState:
    """Starts server, pool, deployments and worker; stops what it started if a step fails."""
    state_dir = options.state_dir.resolve()
    previous = read_state(state_dir)
    if previous and (group_alive(previous.server_pid) or group_alive(previous.worker_pid)):
        raise TeamServerError(
            f"already up (server pid {previous.server_pid}, API {previous.api_url}): "
            "run `vocflow team-server down` first"
        )
    check_port_free(options.host, options.port)
    say(f"database {redacted(url)}")
    check_database(url)
    home = state_dir / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    # Clients on this machine reach a server bound to all interfaces through loopback.
    reach = "127.0.0.1" if options.host in {"0.0.0.0", "::", ""} else options.host  # noqa: S104
    api_url = f"http://{reach}:{options.port}/api"
    server_log, worker_log = state_dir / "server.log", state_dir / "worker.log"
    server_env = base_env(home, None)
    server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = url.render_as_string(hide_password=False)
    server = spawn(
        [_prefect(), "server", "start", "--host", options.host, "--port", str(options.port)],
        server_env, server_log, state_dir,
    )  # fmt: skip
    state = TeamState(
        api_url, options.pool, redacted(url), server.pid, None, str(server_log),
        str(worker_log), str(home), [],
    )  # fmt: skip
    write_state(state_dir, state)
    try:
        say(f"server pid {server.pid}, waiting for {api_url}/health (log {server_log})")
        wait_healthy(api_url, server, server_log, options.startup_timeout)
        created = ensure_work_pool(api_url, options.pool, options.pool_concurrency)
        say(f"work pool {options.pool!r} ({'created' if created else 'exists'}, type process)")
        state.deployments = register_deployments(api_url, options.pool, options.project_dir)
        say("deployments: " + ", ".join(state.deployments))
        worker_args = [_prefect(), "worker", "start", "--pool", options.pool, "--type", "process"]
        if options.worker_limit:
            worker_args += ["--limit", str(options.worker_limit)]
        worker = spawn(worker_args, base_env(home, api_url), worker_log, options.project_dir)
        state.worker_pid = worker.pid
        write_state(state_dir, state)
        time.sleep(2)
        if worker.poll() is not None:
            log = tail(worker_log)
            raise TeamServerError(f"the worker exited at once; log {worker_log}:\n{log}")
        say(f"worker pid {worker.pid} on pool {options.pool!r} (log {worker_log})")
    except BaseException:
        down(state_dir, say=lambda _: None)
        raise
    say(f"up: UI and API at {api_url.removesuffix('/api')} (state {state_dir / STATE_FILE})")
    return state


def down(state_dir: Path, say: Any = print) -> bool:
    """Stops the worker (SIGINT), then the server; False when nothing was recorded."""
    state = read_state(state_dir.resolve())
    if state is None:
        say(f"nothing to stop (no {state_dir / STATE_FILE})")
        return False
    # Workers stop on SIGINT; the server after its clients, or its shutdown waits on them.
    stop_group(state.worker_pid, signal.SIGINT)
    say(f"worker stopped (pid {state.worker_pid})" if state.worker_pid else "no worker")
    stop_group(state.server_pid, signal.SIGTERM)
    say(f"server stopped (pid {state.server_pid})")
    (state_dir.resolve() / STATE_FILE).unlink(missing_ok=True)
    return True


def status(state_dir: Path) -> dict[str, Any]:
    """What runs: processes, API health, the pool's online workers and the deployments."""
    import httpx

    state = read_state(state_dir.resolve())
    if state is None:
        return {"up": False}
    report: dict[str, Any] = {
        "up": alive(state.server_pid),
        "api_url": state.api_url,
        "database": state.database,
        "server": {"pid": state.server_pid, "running": alive(state.server_pid)},
        "worker": {"pid": state.worker_pid, "running": alive(state.worker_pid)},
        "pool": state.pool,
        "deployments": state.deployments,
        "logs": [state.server_log, state.worker_log],
    }
    try:
        report["healthy"] = httpx.get(f"{state.api_url}/health", timeout=5).status_code == 200
        workers = httpx.post(
            f"{state.api_url}/work_pools/{state.pool}/workers/filter", json={}, timeout=10
        ).json()
        report["workers_online"] = [w["name"] for w in workers if w.get("status") == "ONLINE"]
    except (httpx.HTTPError, ValueError, TypeError):
        report["healthy"] = False
    return report


# --- CLI ----------------------------------------------------------------------------------

StateDir = Annotated[Path, typer.Option(help="Where the state file, logs and PREFECT_HOME live.")]


@team_app.command("up")
def up_command(
    database_url_option: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help=f"postgresql://USER@HOST:PORT/DB, no password (that is {DB_PASSWORD_ENV}); "
            f"default ${DB_URL_ENV}.",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Server bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Server port (API and UI).")] = 4200,
    pool: Annotated[str, typer.Option(help="Process work pool name.")] = DEFAULT_POOL,
    state_dir: StateDir = DEFAULT_STATE_DIR,
    project_dir: Annotated[
        Path, typer.Option(help="Project checkout the worker runs the flows from.")
    ] = Path(),
    worker_limit: Annotated[
        int | None, typer.Option(help="Most flow runs this worker runs at once.")
    ] = None,
    pool_concurrency: Annotated[
        int | None,
        typer.Option(
            help="Most flow runs on the pool at once, all workers together. 1 (default): runs "
            "queue, as the DuckDB store takes one writing process at a time."
        ),
    ] = 1,
    startup_timeout: Annotated[float, typer.Option(help="Seconds to wait for health.")] = 180.0,
) -> None:
    """Starts the Prefect server on PostgreSQL, the work pool, deployments and a worker."""
    options = UpOptions(
        host, port, pool, state_dir, project_dir, worker_limit, pool_concurrency, startup_timeout
    )
    try:
        up(database_url(database_url_option), options, say=typer.echo)
    except TeamServerError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@team_app.command("down")
def down_command(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Stops the worker, then the server."""
    down(state_dir, say=typer.echo)


@team_app.command("status")
def status_command(state_dir: StateDir = DEFAULT_STATE_DIR) -> None:
    """Prints what runs (JSON); exit code 1 when the server is not up."""
    report = status(state_dir)
    typer.echo(json.dumps(report, indent=2))
    if not report["up"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    team_app()
