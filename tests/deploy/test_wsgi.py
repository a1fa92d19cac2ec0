"""The production entry point: gunicorn preloads service.wsgi in its master, so the rule packs,
the classifier and the guides must be loaded there, once, and shared by every web worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_gunicorn_preloads_the_app():
    config: dict[str, object] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), config)  # noqa: S102 - our own config file
    assert config["preload_app"] is True
    assert config["wsgi_app"] == "service.wsgi:app"
