"""The mutation records stay honest: every listed equivalent has its reason, names a mutant of
a module the runs cover, and is not one a test has since killed (a mutant some test tells
apart was never equivalent, and listing it would hide it from the module's killed share).
The figures in tests/MUTATION.md are the stored verdicts', as scripts/mutation.py writes them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = tomllib.loads((ROOT / "tests" / "mutation_equivalents.toml").read_text())
STORED = sorted((ROOT / "tests" / "mutation").glob("*.json"))
MUTANT_NAME = re.compile(r"^service\.[\w.]+\.x[_ǁ][\wǁ]+__mutmut_\d+$")


def _mutation_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts/mutation.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_every_equivalent_names_a_mutant_of_a_covered_module_and_gives_a_reason():
    script = _mutation_script()
    covered = [
        source.removesuffix(".py").rstrip("/").replace("/", ".")
        for m in script.MODULES
        for source in m.sources
    ]
    assert EQUIVALENTS["equivalent"], "the file lists no equivalents"
    for name, reason in EQUIVALENTS["equivalent"].items():
        assert MUTANT_NAME.match(name), name
        assert any(name.startswith(prefix + ".") for prefix in covered), name
        assert len(reason.strip()) >= 15, f"{name}: say why no input tells it apart"


@pytest.mark.parametrize("record", STORED, ids=[p.stem for p in STORED])
def test_no_listed_equivalent_is_killed(record: Path):
    verdicts = json.loads(record.read_text())["verdicts"]
    killed = {n for n, v in verdicts.items() if v in ("killed", "timeout")}
    wrongly_listed = sorted(killed & EQUIVALENTS["equivalent"].keys())
    assert not wrongly_listed, f"killed, so not equivalent: {wrongly_listed}"


def test_the_report_is_the_stored_verdicts(tmp_path, monkeypatch):
    """Rows come from tests/mutation/*.json when no local run exists; equivalents are left
    out of the share; a module never run says so."""
    script = _mutation_script()
    monkeypatch.setattr(script, "WORK", tmp_path / "none")  # no local .mutation copies
    monkeypatch.setattr(script, "STORED", tmp_path / "stored")
    monkeypatch.setattr(script, "REPORT", tmp_path / "MUTATION.md")
    monkeypatch.setattr(script, "EQUIVALENTS", tmp_path / "equivalents.toml")
    (tmp_path / "stored").mkdir()
    base = "service.retention.x_purge_expired__mutmut_"
    verdicts = {f"{base}{i}": "killed" for i in range(1, 9)}
    verdicts |= {f"{base}9": "survived", f"{base}10": "survived", f"{base}11": "timeout"}
    (tmp_path / "stored" / "retention.json").write_text(
        json.dumps({"seconds": 600, "verdicts": verdicts})
    )
    (tmp_path / "equivalents.toml").write_text(f'[equivalent]\n"{base}10" = "same for all"\n')
    script.report()
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
        for line in (tmp_path / "MUTATION.md").read_text().splitlines()
        if line.startswith("| ") and not line.startswith("| module") and "---" not in line
    }
    # 11 mutants: 9 killed (a timeout counts), 1 surviving, 1 equivalent: 9 / 10
    assert rows["retention"][:8] == ["11", "9", "1", "1", "0", "0", "90%", "10 min"]
    assert rows["auth"][0] == "not run"
    assert f"survived: `{base}9`" in (tmp_path / "MUTATION.md").read_text()
