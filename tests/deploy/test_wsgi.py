"""The production entry point: gunicorn preloads service.wsgi in its master, so the rule packs,
the classifier and the guides must be loaded there, once, and shared by every web worker."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

from service.privacy.crypto import new_key

ROOT = Path(__file__).resolve().parents[2]


def test_wsgi_module_loads_what_workers_share_without_touching_the_database(tmp_path):
    database = tmp_path / "never-created.db"
    env = {**os.environ, "DEFUSE_DATABASE_URL": f"sqlite:///{database}"}
    env.pop("DEFUSE_REDIS_URL", None)
    probe = (
        "import gc, json, service.wsgi as w; "
        "loaded = sorted(k for k in w.app.extensions if k.startswith('defuse.')); "
        "print(json.dumps({'loaded': loaded, 'frozen': gc.get_freeze_count() > 0}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"defuse.risk_engine", "defuse.guides"} <= set(answer["loaded"])
    assert answer["frozen"]
    assert not database.exists()  # no connection opened in the master, to be shared by forks


def test_gunicorn_serves_from_a_preloaded_master(tmp_path):
    """gunicorn with our config: the classifier is loaded in the master before it forks (its
    compiled scikit-learn modules are mapped in the master's memory), the workers answer,
    and the access log has no client address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEFUSE_")}
    env.update(
        DEFUSE_ENV="test",
        DEFUSE_BIND=f"127.0.0.1:{port}",
        DEFUSE_WEB_WORKERS="2",
        DEFUSE_DATABASE_URL=f"sqlite:///{tmp_path / 'unused.db'}",
        DEFUSE_SECRET_KEY="gunicorn-test-secret-" + "x" * 32,
        DEFUSE_ENCRYPTION_KEYS=new_key(),
        DEFUSE_HASH_KEY="gunicorn-test-hash-key",
    )
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        body = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                    body = json.loads(response.read())
                    break
            except OSError:
                time.sleep(0.2)
        assert body == {"status": "ok"}, log_path.read_text()[-3000:]
        maps = Path(f"/proc/{server.pid}/maps").read_text()
        assert "sklearn" in maps, "the master did not load the classifier before forking"
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        while time.monotonic() < deadline and len(children.read_text().split()) < 2:
            time.sleep(0.2)
        assert len(children.read_text().split()) == 2  # DEFUSE_WEB_WORKERS forked workers
    finally:
        server.terminate()
        server.wait(30)
    access = [line for line in log_path.read_text().splitlines() if "/healthz" in line]
    assert access and all("127.0.0.1" not in line for line in access), access
