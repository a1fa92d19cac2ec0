"""Mutation testing of the privacy, access and deadline core, one module at a time.

    python scripts/mutation.py run [MODULE ...]   mutate and test (all modules by default)
    python scripts/mutation.py rerun MODULE [NAME ...]  test its survivors and unchecked mutants
                                                        (or those named) again
    python scripts/mutation.py report             write tests/MUTATION.md from the results

mutmut reads its configuration only from ./pyproject.toml and keeps its results in ./mutants,
so each module gets its own copy of the project under .mutation/<module>/ with its own
[tool.mutmut]: its source paths and only the test files that exercise it. That keeps a
module's run to its fast, relevant tests, lets modules be re-run alone, and keeps their
results apart. Surviving mutants judged equivalent are listed, with a reason, in
tests/mutation_equivalents.toml; the report counts them separately.

A new checkout has no .mutation/, and a module's full run takes hours on two cores. So each
stored record keeps, beside the verdicts, the hash of every mutated function (mutmut's own)
and of every test file the survivors were judged against. A run in a new checkout starts
from the stored verdicts of every function whose hash is unchanged, and mutmut judges only
the rest; a rerun tests a survivor again only against the test files changed or added since
it survived (the unchanged ones already let it through). `run --fresh` judges everything.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
REPORT = ROOT / "tests" / "MUTATION.md"
# Each module's verdicts, kept in the repository: .mutation/ is a local working copy, and
# the report must not lose a module's figures because a checkout has not run it.
STORED = ROOT / "tests" / "mutation"
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.toml"
TARGET = 0.90  # killed share each module must reach


@dataclass(frozen=True)
class Module:
    name: str
    sources: tuple[str, ...]
    tests: tuple[str, ...]
    # Further pytest arguments for this module's selection, e.g. --deselect of slow cases
    # that add no kills beyond their siblings.
    pytest_args: tuple[str, ...] = ()


# Each module's mutants run only these tests (mutmut further narrows each mutant to the
# tests that call the mutated function). Add a test file here when it covers the module.
MODULES = (
    Module(
        "privacy",
        ("service/privacy/",),
        (
            "tests/privacy/test_scrub.py",
            "tests/privacy/test_scrub_properties.py",
            "tests/privacy/test_pii_set.py",
            "tests/privacy/test_receipts.py",
            "tests/privacy/test_directory.py",
            "tests/privacy/test_hash_keys.py",
            "tests/privacy/test_keyring.py",
            "tests/privacy/test_scrub_edges.py",
            "tests/privacy/test_rotation.py",
            "tests/privacy/test_directory_edges.py",
            "tests/privacy/test_keyring_edges.py",
            "tests/boundaries/test_identifier_formats.py",
            "tests/security/test_client_limits.py",  # ratelimit.py
            "tests/security/test_hardening.py::"
            "test_keys_rotate_reencrypts_everything_and_old_key_can_then_go",  # rotation.py
        ),
    ),
    Module(
        "anonymity",
        ("service/analytics/anonymity.py",),
        (
            "tests/analytics/test_anonymity.py",
            "tests/analytics/test_anonymity_algebra.py",
            "tests/analytics/test_anonymity_edges.py",
            "tests/boundaries/test_anonymity_threshold.py",
        ),
        # The linear-programming attack on random cubes takes ~10 s a seed; every surviving
        # mutant would run all twelve. Three seeds keep its kills at a quarter of the cost.
        tuple(
            f"--deselect=tests/analytics/test_anonymity.py::"
            f"test_random_cubes_keep_the_rules_and_resist_a_linear_programming_attack[{seed}]"
            for seed in range(3, 12)
        ),
    ),
    Module(
        "cases",
        ("service/cases/service.py",),
        (
            "tests/cases/",
            "tests/security/test_access_matrix.py",
            "tests/boundaries/test_case_access.py",
            "tests/boundaries/test_deadlines.py",
        ),
    ),
    Module(
        "auth",
        ("service/auth.py",),
        (
            "tests/auth/",
            "tests/security/test_access_matrix.py",
            "tests/boundaries/test_case_access.py",
        ),
    ),
    Module(
        "retention",
        ("service/retention.py",),
        (
            "tests/cases/test_workflow.py",
            "tests/security/test_hardening.py",
            "tests/boundaries/test_retention.py",
        ),
    ),
    Module(
        "routing",
        ("service/routing/",),
        (
            "tests/routing/test_choose.py",
            "tests/routing/test_routing_service.py",
            "tests/routing/test_language_fallback.py",
            "tests/routing/test_timing.py",
            "tests/routing/test_routing_records.py",
            "tests/boundaries/test_deadlines.py",
            "tests/cases/test_feedback.py",  # sla.check_feedback_deadlines
        ),
        # Needs a real worker process: slow, and the in-process tests reach the same code.
        (
            "--deselect",
            "tests/routing/test_timing.py::test_worker_routes_after_the_delay_and_leaves_no_job_record",
        ),
    ),
    Module(
        "intake",
        ("service/intake/service.py",),
        (
            "tests/intake/",
            "tests/cases/test_workflow.py",
        ),
    ),
)
BY_NAME = {m.name: m for m in MODULES}

# What the copies leave out: environments, caches and other copies.
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".mutation",
    "mutants",
    "instance",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    "build",
    "*.egg-info",
    ".data",
)


def selection(module: Module) -> list[str]:
    """The module's test entries that exist: files, directories of them, or single test ids."""
    return [t for t in module.tests if (ROOT / t.split("::")[0]).exists()]


def mutmut_section(module: Module) -> str:
    """The [tool.mutmut] table of a module's copy: the shared settings of the project's own
    table, with this module's sources and tests."""
    shared = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    settings = {k: v for k, v in shared.items() if k not in ("source_paths", "paths_to_mutate")}
    settings["source_paths"] = list(module.sources)
    settings["pytest_add_cli_args_test_selection"] = selection(module) + list(module.pytest_args)
    lines = ["[tool.mutmut]"]
    for key, value in settings.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def prepare(module: Module) -> Path:
    """A fresh copy of the project for the module, keeping earlier results (mutants/) so an
    unchanged function's mutants are not run again."""
    copy = WORK / module.name
    copy.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if entry.name in (".git", ".venv", ".mutation", "mutants", "instance", "node_modules"):
            continue
        target = copy / entry.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if entry.is_dir():
            shutil.copytree(entry, target, ignore=IGNORED)
        else:
            shutil.copy2(entry, target)
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text()
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[)", "", text)
    pyproject.write_text(text + "\n" + mutmut_section(module))
    return copy


def run(module: Module, children: int, fresh: bool = False) -> None:
    """Mutate the module and test every mutant not yet judged (a stopped run resumes, and a
    new checkout starts from the stored verdicts of unchanged functions unless fresh)."""
    mutants = WORK / module.name / "mutants"
    if fresh and mutants.exists():
        shutil.rmtree(mutants)
    resumed = mutants.exists() or (not fresh and seed(module))
    copy = prepare(module)
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    env = test_environment(copy)
    result = subprocess.run(  # noqa: S603 (our own mutmut, fixed arguments)
        [str(mutmut), "run", "--max-children", str(children)], cwd=copy, env=env, check=False
    )
    elapsed = time.monotonic() - started
    previous = stored(module) if resumed else None
    # A resumed run adds its time to the earlier runs' of the same mutants; a run in a fresh
    # copy judges every mutant again, so its time is the whole.
    seconds = round(elapsed) + (previous["seconds"] if previous else 0)
    # A resumed run leaves the survivors judged as they were, so they still stand against
    # the tests they were judged by; a fresh one judged them all against the copy's.
    judged_by = previous.get("tests") if previous else test_hashes(copy)
    store(module, seconds, children, result.returncode, judged_by)


# mutmut's exit code for each verdict, to hand stored verdicts back to it
EXIT_CODE = {"killed": 1, "survived": 0, "no tests": 33, "timeout": 36}


def seed(module: Module) -> bool:
    """Give a new checkout's copy the stored verdicts, in mutmut's own .meta files, with the
    function hashes they were reached for: mutmut keeps a verdict only while its function's
    hash is unchanged, and judges the rest. False if there is nothing to start from."""
    record = stored(module)
    if not record or not record.get("hashes"):
        return False
    for source, hashes in record["hashes"].items():
        dotted = source.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        exit_codes = {
            name: EXIT_CODE.get(verdict)
            for name, verdict in record["verdicts"].items()
            if name.rsplit(".", 1)[0] == dotted
        }
        meta = WORK / module.name / "mutants" / (source + ".meta")
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(
            json.dumps(
                {
                    "exit_code_by_key": exit_codes,
                    "hash_by_function_name": hashes,
                    "type_check_error_by_key": {},
                    "durations_by_key": {},
                    "estimated_durations_by_key": {},
                },
                indent=4,
            )
        )
    return True


def test_hashes(copy: Path) -> dict[str, str]:
    """Each test file of a copy, by its content's hash: what its verdicts were judged by."""
    return {
        str(path.relative_to(copy)): hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted((copy / "tests").rglob("test_*.py"))
    }


def test_environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Mutants run on SQLite and the embedded Redis: a shared database would make them
    # slower and could let one mutant's rows reach another's test.
    env.pop("DEFUSE_TEST_DATABASE_URL", None)
    env.pop("DEFUSE_TEST_REDIS_URL", None)
    # Migrate the SQLite template once for the whole run, not once per mutant.
    env["DEFUSE_TEST_TEMPLATE_CACHE"] = str(copy / "template-cache")
    return env


def rerun(module: Module, names: list[str], children: int, named: bool = False) -> None:
    """Test the named mutants again, e.g. survivors once new tests are written.

    Not through `mutmut run NAME`: mutmut forgets every verdict of a module when its test
    selection changes, and adding a test file to the selection is such a change. So each
    mutant runs as mutmut runs it (pytest -x in mutants/, the mutant switched on by
    MUTANT_UNDER_TEST) on the tests mutmut's stats tied to its function plus every test file
    added since, and its verdict is written into mutmut's own results. A survivor is tested
    only against the test files changed since it survived, unless named."""
    record = stored(module) or {}
    copy = prepare(module)
    mutants = copy / "mutants"
    shutil.copytree(copy / "tests", mutants / "tests", dirs_exist_ok=True)
    now = test_hashes(copy)
    before = record.get("tests")
    changed = {f for f, h in now.items() if before is None or before.get(f) != h}
    earlier = record.get("verdicts", {})
    stats = json.loads((mutants / "mutmut-stats.json").read_text())
    known_files = {test.split("::")[0] for test in stats["duration_by_test"]}
    tests = []
    for entry in selection(module):
        path = ROOT / entry.split("::")[0]
        if path.is_dir():  # the stats name test files, so a directory is its test files
            tests += sorted(str(f.relative_to(ROOT)) for f in path.rglob("test_*.py"))
        else:
            tests.append(entry)
    added = [t for t in tests if t.split("::")[0] not in known_files]
    common = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    env = test_environment(copy)
    env["PYTHONPATH"] = str(mutants)
    # The stats name the tests as they were: one renamed or removed since would stop pytest
    # before it tests anything, and one added to a known file would be left out.
    collected = subprocess.run(  # noqa: S603 (our own pytest, our own test ids)
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *module.pytest_args, *tests],
        cwd=mutants,
        env={**env, "MUTANT_UNDER_TEST": "list_all_tests"},
        capture_output=True,
        text=True,
        check=True,
    )
    existing = {line for line in collected.stdout.splitlines() if "::" in line}
    added += sorted(
        test
        for test in existing - set(stats["duration_by_test"])
        if test.split("::")[0] in known_files
    )
    started = time.monotonic()

    def test_one(name: str) -> tuple[str, int]:
        function = name.partition("__mutmut_")[0]
        known = [
            t for t in stats["tests_by_mangled_function_name"].get(function, ()) if t in existing
        ]
        survived = earlier.get(name) in ("survived", "no tests") and not named
        tests = tests_to_run(known, changed, added, survived)
        if not tests:
            return name, EXIT_CODE[earlier[name]] if survived else 33  # 33: "no tests"
        seconds = sum(stats["duration_by_test"].get(t, 30.0) for t in tests)
        limit = (seconds + common["timeout_constant"]) * common["timeout_multiplier"]
        command = [sys.executable, "-m", "pytest", "-q", *common["pytest_add_cli_args"]]
        command += [*module.pytest_args, *tests]
        try:
            done = subprocess.run(  # noqa: S603 (our own pytest, our own test ids)
                command,
                cwd=mutants,
                env={**env, "MUTANT_UNDER_TEST": name},
                capture_output=True,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return name, 36  # mutmut's "timeout", counted as killed as mutmut does
        output = done.stdout + done.stderr
        if done.returncode in (2, 4) and (
            b"ImportError while loading conftest" in output or b"ERROR collecting" in output
        ):
            # The mutant stops the code importing, so no test can even start: killed. (mutmut
            # forks from a process that imported the code already, so it never sees this.)
            return name, 1
        return name, done.returncode

    from concurrent.futures import ThreadPoolExecutor

    from mutmut.stats import status_by_exit_code

    metas = {meta: _read_meta(meta) for meta in meta_files(mutants)}
    done = 0
    finished = False
    try:
        with ThreadPoolExecutor(max_workers=children) as pool:
            for name, code in pool.map(test_one, names):
                done += 1
                print(f"{done}/{len(names)} {status_by_exit_code[code]}: {name}", flush=True)
                # Saved as each verdict comes, so a stopped rerun keeps what it found.
                for meta, data in metas.items():
                    if name in data["exit_code_by_key"]:
                        data["exit_code_by_key"][name] = code
                        meta.write_text(json.dumps(data, indent=4))
        finished = True
    finally:  # stopped with Ctrl-C too: the repository's record gets what was found
        elapsed = round(time.monotonic() - started)
        # Only a rerun of every survivor leaves them all judged against today's tests.
        judged_by = now if finished and not named else before
        store(
            module, record.get("seconds", 0) + elapsed, children, record.get("exit", 0), judged_by
        )


def tests_to_run(
    known: list[str], changed: set[str], added: list[str], survived: bool
) -> list[str]:
    """The tests to judge a mutant by: of those tied to its function (known), the ones in
    changed test files and the added ones first, since pytest -x stops at the first failure.
    A mutant that survived gets only those: the unchanged files already let it through."""
    known = sorted(known)
    fresh = [t for t in known if t.split("::")[0] in changed] + added
    return fresh if survived else fresh + [t for t in known if t not in fresh]


def live_verdicts(module: Module) -> dict[str, str] | None:
    """mutant name -> mutmut's verdict, from the .meta files mutmut writes beside each
    mutated source file; None when the module has not been run in this checkout."""
    mutants = WORK / module.name / "mutants"
    metas = meta_files(mutants)
    if not metas:
        return None
    # Only here: the stored verdicts are reported without mutmut installed.
    from mutmut.stats import status_by_exit_code

    verdicts = {}
    for meta in metas:
        exit_codes = _read_meta(meta)["exit_code_by_key"]
        for name, code in exit_codes.items():
            verdicts[name] = status_by_exit_code[code]
    return verdicts


def meta_files(mutants: Path) -> list[Path]:
    """mutmut's results: a .meta file beside each mutated source file."""
    return sorted(mutants.glob("service/**/*.py.meta"))


def _read_meta(meta: Path) -> dict:
    """A .meta file, read while a run may be rewriting it (mutmut writes in place)."""
    for _ in range(50):
        try:
            return json.loads(meta.read_text())
        except json.JSONDecodeError:
            time.sleep(0.1)
    return json.loads(meta.read_text())


def live_hashes(module: Module) -> dict[str, dict[str, str]]:
    """source file -> mutmut's hash of each mutated function, as its verdicts were reached."""
    mutants = WORK / module.name / "mutants"
    return {
        str(meta.relative_to(mutants)).removesuffix(".meta"): _read_meta(meta)[
            "hash_by_function_name"
        ]
        for meta in meta_files(mutants)
    }


def store(
    module: Module,
    seconds: int,
    children: int,
    exit_code: int,
    tests: dict[str, str] | None = None,
) -> None:
    """Write the module's record: its verdicts, the function hashes they hold for, and the
    test files (by hash) its survivors were judged against (kept as they were if None)."""
    verdicts = live_verdicts(module) or {}
    tests = tests if tests is not None else (stored(module) or {}).get("tests")
    STORED.mkdir(exist_ok=True)
    (STORED / f"{module.name}.json").write_text(
        json.dumps(
            {
                "seconds": seconds,
                "children": children,
                "exit": exit_code,
                "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "verdicts": dict(sorted(verdicts.items())),
                "hashes": live_hashes(module),
                "tests": tests,
            },
            indent=1,
            ensure_ascii=False,
        )
        + "\n"
    )


def stored(module: Module) -> dict | None:
    path = STORED / f"{module.name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def results(module: Module) -> tuple[dict[str, str], dict] | None:
    """The module's verdicts and run record: this checkout's run if it has one (which may
    have re-run survivors by name since, so the stored copy is brought up to date), else the
    stored one; None if never run."""
    record = stored(module) or {}
    live = live_verdicts(module)
    if live is not None and live != record.get("verdicts"):
        store(module, record.get("seconds", 0), record.get("children", 0), record.get("exit", 0))
        record = stored(module) or {}
    verdicts = record.get("verdicts")
    return (verdicts, record) if verdicts else None


def equivalents() -> dict[str, str]:
    if not EQUIVALENTS.exists():
        return {}
    return tomllib.loads(EQUIVALENTS.read_text()).get("equivalent", {})


def report() -> int:
    known_equivalent = equivalents()
    rows, details = [], []
    below_target = []
    for module in MODULES:
        found = results(module)
        if found is None:
            rows.append(f"| {module.name} | not run | | | | | | | |")
            below_target.append(module.name)
            continue
        verdicts, run_info = found
        killed = sum(v in ("killed", "timeout") for v in verdicts.values())
        # A mutant no test even reaches survives as surely as one the tests miss.
        survivors = sorted(n for n, v in verdicts.items() if v in ("survived", "no tests"))
        equivalent = [n for n in survivors if n in known_equivalent]
        alive = [n for n in survivors if n not in known_equivalent]
        unchecked = sum(v == "not checked" for v in verdicts.values())
        other = sorted(
            n
            for n, v in verdicts.items()
            if v not in ("killed", "timeout", "survived", "no tests", "not checked")
        )
        judged = killed + len(alive)  # equivalent mutants cannot be killed, so do not count
        share = killed / judged if judged else 0.0
        if share < TARGET or other or unchecked:
            below_target.append(module.name)
        minutes = f"{run_info['seconds'] / 60:.0f} min" if run_info.get("seconds") else "?"
        rows.append(
            f"| {module.name} | {len(verdicts)} | {killed} | {len(alive)} | {len(equivalent)} "
            f"| {len(other)} | {unchecked} | {f'{share:.0%}' if judged else '-'} | {minutes} |"
        )
        if alive or equivalent or other:
            details.append(f"\n### {module.name}\n")
            details.append("| file | killed | surviving | not yet run |")
            details.append("|---|---|---|---|")
            for source in sorted({n.rsplit(".", 1)[0] for n in verdicts}):
                mine = {n: v for n, v in verdicts.items() if n.rsplit(".", 1)[0] == source}
                details.append(
                    f"| {source} | {sum(v in ('killed', 'timeout') for v in mine.values())} "
                    f"| {sum(n in alive for n in mine)} "
                    f"| {sum(v == 'not checked' for v in mine.values())} |"
                )
            details.append("")
            details += [f"- {verdicts[n]}: `{n}`" for n in alive]
            details += [f"- equivalent: `{n}` — {known_equivalent[n]}" for n in equivalent]
            details += [f"- {verdicts[n]}: `{n}`" for n in other]
    text = [
        "# Mutation testing results",
        "",
        "Written by `make mutation` (scripts/mutation.py) from mutmut's results; do not edit.",
        "Killed counts timeouts; surviving counts mutants no selected test reaches ('no tests').",
        "The share is killed / (killed + surviving), leaving out the mutants listed as",
        "equivalent in tests/mutation_equivalents.toml, and those not run yet (an interrupted",
        "run). Time is the module's whole run on the two shared cores of the development",
        "machine, with the other work on it.",
        "",
        "| module | mutants | killed | surviving | equivalent | other | not yet run | killed share "
        "| time |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Target: {TARGET:.0%} killed in each module. "
        + (
            f"Below it or not run: {', '.join(below_target)}."
            if below_target
            else "Every module reaches it."
        ),
    ]
    if details:
        text += ["", "## Survivors and other verdicts", *details]
    REPORT.write_text("\n".join(text) + "\n")
    print(REPORT.read_text())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run")
    run_parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(BY_NAME))
    run_parser.add_argument("--children", type=int, default=2)
    run_parser.add_argument(
        "--fresh", action="store_true", help="judge every mutant, not only changed functions'"
    )
    rerun_parser = sub.add_parser(
        "rerun", help="test one module's surviving and unchecked mutants (or those named)"
    )
    rerun_parser.add_argument("module", choices=list(BY_NAME))
    rerun_parser.add_argument("names", nargs="*", metavar="MUTANT")
    rerun_parser.add_argument("--children", type=int, default=2)
    sub.add_parser("report")
    args = parser.parse_args()
    if args.command == "rerun":
        module = BY_NAME[args.module]
        if not (WORK / module.name / "mutants" / "mutmut-stats.json").exists():
            run(module, args.children)  # a new checkout: mutants, stats, verdicts to start from
        found = results(module)
        known_equivalent = equivalents()
        names = args.names or sorted(
            name
            for name, verdict in (found[0] if found else {}).items()
            if verdict in ("survived", "no tests", "not checked") and name not in known_equivalent
        )
        if names:
            rerun(module, names, args.children, named=bool(args.names))
        return report()
    if args.command == "run":
        unknown = set(args.modules) - set(BY_NAME)
        if unknown:
            parser.error(
                f"unknown module(s) {', '.join(sorted(unknown))}; known: {', '.join(BY_NAME)}"
            )
        for name in args.modules or list(BY_NAME):
            run(BY_NAME[name], args.children, args.fresh)
        return report()
    return report()


if __name__ == "__main__":
    sys.exit(main())
