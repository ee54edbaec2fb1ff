import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_vocflow_serve_registers_the_nightly_cron_deployment(tmp_path: Path):
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    env.pop("PREFECT_API_URL", None)
    bindir = Path(sys.executable).parent
    serve = subprocess.Popen(
        [str(bindir / "vocflow"), "serve"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    listed = ""
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not listed:
            time.sleep(10)
            assert serve.poll() is None, serve.stdout.read() if serve.stdout else ""
            shown = subprocess.run(
                [str(bindir / "prefect"), "deployment", "inspect", "vocflow-nightly/nightly"],
                env=env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            listed = shown.stdout if shown.returncode == 0 else ""
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
    assert "'name': 'nightly'" in listed
    assert "'cron': '0 2 * * *'" in listed  # the cron from configs/vocflow.yaml
    ls = subprocess.run(
        [str(bindir / "prefect"), "deployment", "ls"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "vocflow-nightly/nightly" in ls.stdout
