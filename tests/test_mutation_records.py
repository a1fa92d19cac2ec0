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


@pytest.mark.parametrize("record", STORED, ids=[p.stem for p in STORED])
def test_a_record_names_the_function_hashes_and_test_files_its_verdicts_hold_for(record: Path):
    """Without them a new checkout could not start from the record and would judge every
    mutant again (hours on two cores)."""
    data = json.loads(record.read_text())
    functions = {
        (n.split("__mutmut_")[0].rsplit(".", 1)[0], n.split("__mutmut_")[0].rsplit(".", 1)[1])
        for n in data["verdicts"]
    }
    hashed = {
        (source.removesuffix(".py").removesuffix("/__init__").replace("/", "."), function)
        for source, hashes in data["hashes"].items()
        for function in hashes
    }
    assert functions <= hashed, sorted(functions - hashed)[:5]
    assert data["tests"] and all(name.startswith("tests/") for name in data["tests"])


def test_a_new_checkout_starts_from_the_stored_verdicts_of_unchanged_functions(
    tmp_path, monkeypatch
):
    """seed() writes mutmut's own .meta: the stored verdicts as exit codes, with the hashes
    they were reached for, so mutmut keeps them only while each function is unchanged."""
    script = _mutation_script()
    monkeypatch.setattr(script, "WORK", tmp_path / "work")
    monkeypatch.setattr(script, "STORED", tmp_path / "stored")
    (tmp_path / "stored").mkdir()
    base = "service.retention.x_purge_expired__mutmut_"
    verdicts = {f"{base}1": "killed", f"{base}2": "survived", f"{base}3": "no tests"}
    verdicts |= {f"{base}4": "timeout", f"{base}5": "not checked"}
    verdicts["service.retention.x_other__mutmut_1"] = "killed"
    hashes = {"service/retention.py": {"x_purge_expired": "abc", "x_other": "def"}}
    record = {"seconds": 60, "verdicts": verdicts, "hashes": hashes, "tests": {}}
    (tmp_path / "stored" / "retention.json").write_text(json.dumps(record))

    assert script.seed(script.BY_NAME["retention"]) is True
    meta = json.loads(
        (tmp_path / "work" / "retention" / "mutants" / "service/retention.py.meta").read_text()
    )
    assert meta["hash_by_function_name"] == hashes["service/retention.py"]
    assert meta["exit_code_by_key"] == {
        f"{base}1": 1,
        f"{base}2": 0,
        f"{base}3": 33,
        f"{base}4": 36,
        f"{base}5": None,
        "service.retention.x_other__mutmut_1": 1,
    }
    # a record from before hashes were kept gives nothing to start from
    del record["hashes"]
    (tmp_path / "stored" / "retention.json").write_text(json.dumps(record))
    assert script.seed(script.BY_NAME["retention"]) is False


def test_test_files_are_known_by_their_content(tmp_path):
    script = _mutation_script()
    (tmp_path / "tests" / "cases").mkdir(parents=True)
    (tmp_path / "tests" / "cases" / "test_one.py").write_text("def test_a(): pass\n")
    (tmp_path / "tests" / "cases" / "support.py").write_text("X = 1\n")
    first = script.test_hashes(tmp_path)
    assert list(first) == ["tests/cases/test_one.py"]  # only test files
    (tmp_path / "tests" / "cases" / "test_one.py").write_text("def test_a(): assert 1\n")
    assert (
        script.test_hashes(tmp_path)["tests/cases/test_one.py"] != first["tests/cases/test_one.py"]
    )


def test_a_survivor_is_judged_again_only_by_what_changed_and_the_rest_by_everything():
    script = _mutation_script()
    known = ["tests/b.py::test_old", "tests/a.py::test_changed", "tests/a.py::test_also"]
    changed = {"tests/a.py"}
    added = ["tests/new.py"]
    likely_first = ["tests/a.py::test_also", "tests/a.py::test_changed", "tests/new.py"]
    assert script.tests_to_run(known, changed, added, survived=True) == likely_first
    assert script.tests_to_run(known, changed, added, survived=False) == [
        *likely_first,
        "tests/b.py::test_old",
    ]
    assert script.tests_to_run(known, set(), [], survived=True) == []
    assert script.tests_to_run(known, set(), [], survived=False) == sorted(known)
