"""The deployment files as a new operator uses them: compose.yaml with a .env made from
.env.example passes `docker compose config`, the settings it hands the app start a production
app, the build context leaves secrets and caches out, and the licence is declared."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from service.cli import main as cli
from service.config import PROJECT_ROOT, Settings

ROOT = PROJECT_ROOT
SECRETS = ("DEFUSE_SECRET_KEY", "DEFUSE_HASH_KEY", "DEFUSE_ENCRYPTION_KEYS", "POSTGRES_PASSWORD")


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def filled_env() -> dict[str, str]:
    """.env.example as an operator fills it in."""
    values = env_example()
    values.update(
        DEFUSE_SECRET_KEY="s" * 48,
        DEFUSE_HASH_KEY="h" * 48,
        DEFUSE_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        POSTGRES_PASSWORD="correcthorse42",
    )
    return values


def compose_command() -> list[str]:
    """Compose v2 (`docker compose`) where the plugin is there, else Debian's docker-compose."""
    docker = shutil.which("docker")
    if docker:
        plugin = subprocess.run([docker, "compose", "version"], capture_output=True)
        if plugin.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy, "docker-compose is missing: scripts/ensure-tools docker-compose (make test)"
    return [legacy]


def compose_config(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "--project-directory", str(directory), "-f", "compose.yaml", "config"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    return tmp_path


def test_env_example_has_every_secret_empty_for_the_operator_to_fill():
    values = env_example()
    assert {name: values.get(name) for name in SECRETS} == dict.fromkeys(SECRETS, "")


def test_compose_config_passes_with_a_filled_in_env_file(deployment):
    (deployment / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in filled_env().items())
    )
    done = compose_config(deployment)
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr, done.stderr  # e.g. a variable that is not set
    config = done.stdout
    assert "postgresql+psycopg://defuse:correcthorse42@postgres:5432/defuse" in config
    assert "DEFUSE_TRUSTED_PROXIES: '1'" in config or 'DEFUSE_TRUSTED_PROXIES: "1"' in config
    assert "http://127.0.0.1:8000/readyz" in config  # the health check: plain HTTP, internal
    assert "127.0.0.1:8000" in config and "0.0.0.0" not in config  # only the local proxy


def test_compose_config_refuses_a_missing_env_file(deployment):
    assert compose_config(deployment).returncode != 0


def test_every_variable_compose_needs_is_in_env_example():
    interpolated = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
    assert interpolated and interpolated <= set(env_example())


def test_every_defuse_variable_in_env_example_is_a_real_setting():
    config_source = (ROOT / "service" / "config.py").read_text()
    for name in env_example():
        if name.startswith("DEFUSE_"):
            assert f'"{name}"' in config_source, f"{name} is not read by service/config.py"


def test_the_filled_in_env_file_starts_a_production_app():
    # DEFUSE_ENV=production comes from the image (Dockerfile); compose sets the database.
    settings = Settings.from_env({**filled_env(), "DEFUSE_ENV": "production"})
    assert settings.production and settings.trusted_proxies == 1


def test_keys_generate_works_before_the_app_has_any_keys():
    result = CliRunner().invoke(
        cli, ["keys", "generate"], env={"DEFUSE_ENV": "production", "DEFUSE_SECRET_KEY": ""}
    )
    assert result.exit_code == 0, result.output
    Fernet(result.output.strip().encode())  # a valid key


def test_dockerignore_keeps_secrets_environments_and_caches_out():
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    expected = {".git", ".venv", "instance", ".env", "bench/.data", "**/__pycache__"}
    expected |= {".pytest_cache", ".ruff_cache", ".hypothesis"}
    assert expected <= patterns


def test_dockerfile_copies_only_what_it_names_and_the_licence():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY . " not in dockerfile  # nothing unnamed reaches the image
    assert re.search(r"^COPY .*\bLICENSE\b", dockerfile, re.M)  # pip install . needs it


def test_an_osi_approved_licence_is_declared():
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
