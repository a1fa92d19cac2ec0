"""The `defuse` command line: `defuse --help` lists everything.

Commands run inside the app (settings from DEFUSE_* variables). Flask-Migrate provides
`defuse db upgrade|downgrade|migrate|history`.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from service.extensions import db
from service.org import ConcurrentChange, OrgFileError, find_unit, import_org, report_lines


def _create_app() -> Flask:
    from service import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Defuse: early warning for workplace conflict."""


def register_commands(app: Flask) -> None:
    for command in (
        run,
        worker,
        seed_demo,
        demo_code,
        users,
        tokens,
        rules,
        model,
        score,
        rescore,
        directory,
        org,
        relay,
        retention,
        audit,
        analytics,
    ):
        app.cli.add_command(command)


# --- operating ------------------------------------------------------------------------------


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug/--no-debug", default=False)
@with_appcontext
def run(host: str, port: int, debug: bool) -> None:
    """Serve the app with the development server (gunicorn in production)."""
    from werkzeug.serving import run_simple

    from service.logs import AnonymousRequestHandler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Defuse is running at http://{host}:{port}/  (Ctrl+C to stop)")
    run_simple(
        host,
        port,
        app,
        use_reloader=debug,
        use_debugger=debug,
        threaded=True,
        request_handler=AnonymousRequestHandler,
    )


@click.command()
@click.option("--burst", is_flag=True, help="Drain the queues, then exit.")
@click.option("--no-schedule", is_flag=True, help="Do not run the periodic schedule here.")
@with_appcontext
def worker(burst: bool, no_schedule: bool) -> None:
    """Run an RQ worker (routing, notifications, maintenance) with the scheduler."""
    from service.tasks.worker import run_worker

    run_worker(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        burst=burst,
        with_schedule=not no_schedule,
    )


@click.command()
@with_appcontext
def relay() -> None:
    """Hand pending outbox entries to the queue (or run them in-process without Redis)."""
    from service.tasks.relay import relay_outbox

    click.echo(f"handed over {relay_outbox()} job(s)")


@click.command("seed-demo")
@click.option("--reports", default=None, type=int, help="Demo reports to submit (default 400).")
@with_appcontext
def seed_demo(reports: int) -> None:
    """Create a demo organisation, staff and reports (idempotent)."""
    from service.demo import DEFAULT_REPORTS, seed

    for line in seed(reports=reports or DEFAULT_REPORTS):
        click.echo(line)


# --- people -----------------------------------------------------------------------------------


@click.command("demo-code")
@with_appcontext
def demo_code() -> None:
    """Print the current second-factor code of the demo staff (refused in production)."""
    from service.demo import demo_code as current_demo_code

    if current_app.config["DEFUSE"].production:
        raise click.ClickException("there are no demo accounts in production")
    click.echo(current_demo_code())


@click.group()
def users() -> None:
    """Manage staff accounts."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice(["trust_leader", "lead", "hr_analyst", "admin"])
)
@click.option("--name", default="")
@click.option("--password", default=None, help="Prompted for if not given.")
@click.option("--sso-only", is_flag=True, help="No password: signs in only with single sign-on.")
@click.option(
    "--org-unit",
    default=None,
    help="The unit_id (from the HR file) of the unit they work in; "
    "required for trust_leader and lead.",
)
@click.option("--categories", default="", help="Comma-separated concern categories.")
@click.option("--languages", default="en", show_default=True)
@click.option("--capacity", default=8, show_default=True, type=int)
@with_appcontext
def users_create(
    email: str,
    role: str,
    name: str,
    password: str | None,
    sso_only: bool,
    org_unit: str | None,
    categories: str,
    languages: str,
    capacity: int,
) -> None:
    """Create a staff account."""
    from service.people import PeopleError, create_user

    unit = find_unit(org_unit) if org_unit else None
    if org_unit and unit is None:
        raise click.ClickException(
            f"no org unit has unit_id {org_unit!r} (the ids are those of `defuse org import`)"
        )
    if sso_only:
        if password is not None:
            raise click.UsageError("--sso-only and --password exclude each other")
        if not current_app.config["DEFUSE"].oidc_enabled:
            raise click.UsageError("--sso-only needs single sign-on (DEFUSE_OIDC_ISSUER)")
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            email=email,
            role=role,
            name=name,
            password=password,
            org_unit_id=unit.id if unit else None,
            categories=[c.strip() for c in categories.split(",") if c.strip()],
            languages=[lang.strip() for lang in languages.split(",") if lang.strip()],
            capacity=capacity,
        )
    except PeopleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@click.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("create")
@click.argument("email")
@click.option("--label", default="")
@with_appcontext
def tokens_create(email: str, label: str) -> None:
    """Print a new API token for EMAIL, once. Use it as 'Authorization: Bearer <token>'."""
    from service.auth import new_api_token
    from service.db import User

    user = db.session.execute(
        db.select(User).where(User.email == email.lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no account for {email}")
    token = new_api_token(user, label)
    db.session.commit()
    click.echo(token)


@click.group()
def directory() -> None:
    """The staff directory whose names are scrubbed from reports."""


@directory.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
@click.option("--replace", is_flag=True, help="Replace the whole directory.")
@with_appcontext
def directory_import(csv_file, replace: bool) -> None:  # type: ignore[no-untyped-def]
    """Import staff names from a CSV file (columns: name, or first_name and last_name)."""
    from service.people import import_directory
    from service.privacy.directory import DirectoryImportError

    try:
        count = import_directory(csv_file, replace=replace)
    except DirectoryImportError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"imported {count} name(s)")


@click.group()
def org() -> None:
    """The organisation's units, from its HR data."""


@org.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@with_appcontext
def org_import(csv_file, dry_run: bool) -> None:  # type: ignore[no-untyped-def]
    """Make the org units match an HR file (columns: unit_id,name,parent_unit_id,headcount).

    Units are matched on unit_id: new ones are created, changed ones renamed, moved or given
    their new headcount, and units missing from the file are retired (never deleted). The
    whole file is checked first; any bad row refuses it all."""
    try:
        changes = import_org(csv_file, dry_run=dry_run)
    except OrgFileError as error:
        raise click.ClickException(
            f"{csv_file.name} was refused, nothing was imported:\n  " + "\n  ".join(error.problems)
        ) from None
    except ConcurrentChange as error:
        raise click.ClickException(str(error)) from None
    for line in report_lines(changes, dry_run=dry_run):
        click.echo(line)


# --- risk engine ------------------------------------------------------------------------------


@click.group()
def rules() -> None:
    """Rule packs and listening guides."""


@rules.command("test")
@with_appcontext
def rules_test() -> None:
    """Validate every rule pack and guide, run every rule's examples and the benign corpus."""
    from service.engine.rules import RulePackError, check_examples, load_rule_set
    from service.guides import check_guides

    settings = current_app.config["DEFUSE"]
    try:
        rule_set = load_rule_set(settings.rules_dir)
    except RulePackError as error:
        raise click.ClickException(str(error)) from None
    benign = settings.rules_dir / "tests" / "benign.jsonl"
    failures = check_examples(rule_set, benign if benign.exists() else None)
    failures += check_guides(settings.guides_dir)
    for failure in failures:
        click.echo(f"FAIL {failure}", err=True)
    click.echo(f"{len(rule_set.rules)} rules ({rule_set.version}); {len(failures)} failure(s)")
    if failures:
        sys.exit(1)


@click.command()
@with_appcontext
def score() -> None:
    """Score one report given as JSON on standard input; prints score, level, explanation."""
    from service.engine.facts import ReportFacts
    from service.scoring import get_risk_engine

    try:
        data = json.loads(sys.stdin.read())
    except json.JSONDecodeError as error:
        raise click.ClickException(f"standard input is not JSON: {error.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise click.ClickException('expected a JSON object with at least "text" and "category"')
    assessment = get_risk_engine().assess(
        ReportFacts.from_mapping(data), hotspot=bool(data.get("hotspot"))
    )
    click.echo(
        json.dumps(
            {
                "score": round(assessment.score, 4),
                "level": assessment.level,
                "explanation": assessment.explanation,
                "rule_pack_version": assessment.rule_pack_version,
                "model_version": assessment.model_version,
            },
            indent=2,
        )
    )


@click.command()
@with_appcontext
def rescore() -> None:
    """Recompute the score of every open report (after a rule or model change)."""
    from service.scoring import rescore_open_reports

    rescored, changed = rescore_open_reports()
    click.echo(f"rescored {rescored} open report(s); {changed} changed level")


@click.group()
def model() -> None:
    """Train, evaluate, promote and watch the escalation model."""


def _corpus_dirs() -> dict[str, Path]:
    data = current_app.config["DEFUSE"].models_dir / "data"
    return {
        "train": data / "real" / "train",
        "test": data / "real" / "test",
        "synthetic": data / "synthetic" / "train",
        "synthetic_holdout": data / "synthetic" / "holdout",
    }


@model.command("train")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of labelled JSONL files (default: models/data/real/train).",
)
@click.option(
    "--add",
    "extra_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="More labelled JSONL to train on, e.g. the output of export-labels (repeatable).",
)
@click.option("--version", default=None, help="Artifact version (default: next number).")
@with_appcontext
def model_train(data_dir: Path | None, extra_files: tuple[Path, ...], version: str | None) -> None:
    """Train a candidate model under models/escalation/<n>/ (promote it to make it live)."""
    from service.classifier.data import DataFileError
    from service.classifier.train import train_model
    from service.engine.rules import load_rule_set

    settings = current_app.config["DEFUSE"]
    dirs = _corpus_dirs()
    train_dir = data_dir or dirs["train"]
    with tempfile.TemporaryDirectory() as staging:
        if extra_files:
            # Train on one folder: the corpus and the added files side by side, unchanged.
            merged = Path(staging) / "train"
            merged.mkdir()
            for path in sorted(train_dir.glob("*.jsonl")):
                shutil.copyfile(path, merged / path.name)
            for number, path in enumerate(extra_files):
                shutil.copyfile(path, merged / f"added-{number}-{path.name}")
            train_dir = merged
        try:
            out = train_model(
                train_dir,
                settings.models_dir,
                load_rule_set(settings.rules_dir),
                synthetic_dir=dirs["synthetic"],
                test_dir=dirs["test"],
                synthetic_holdout_dir=dirs["synthetic_holdout"],
                version=version,
            )
        except (DataFileError, FileExistsError, ValueError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"wrote candidate {out}")
    click.echo(f"make it live with: defuse model promote {out.name}")


@model.command("evaluate")
@click.option(
    "--data",
    "data_file",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Labelled JSONL file (default: the frozen real test split).",
)
@click.option(
    "--without-answers", is_flag=True, help="Score as if the form's answers had been left blank."
)
@with_appcontext
def model_evaluate(data_file: Path | None, without_answers: bool) -> None:
    """Score labelled reports with the full engine (rules + active model) and print ROC AUC
    with its bootstrap interval, PR AUC, Brier, and precision and recall at high or above and
    at critical; the last line is roc_auc=<value>."""
    from service.classifier.data import DataFileError
    from service.classifier.evaluate import evaluate_file, format_report
    from service.scoring import get_risk_engine

    if data_file is None:
        files = sorted(_corpus_dirs()["test"].glob("*.jsonl"))
        if len(files) != 1:
            raise click.ClickException("give --data FILE (no single frozen test split found)")
        data_file = files[0]
    engine = get_risk_engine()
    try:
        result = evaluate_file(data_file, engine, strip_answers=without_answers)
    except DataFileError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"model: {engine.model_version or 'none (rules only)'}")
    click.echo(format_report(result))


@model.command("evaluate-languages")
@click.option("--write-card", is_flag=True, help="Rewrite the active model card's section.")
@with_appcontext
def model_evaluate_languages(write_card: bool) -> None:
    """Score the held-out reports of each language (models/data/languages/<code>.jsonl) with
    the full engine and print the model card's per-language section; --write-card puts it in
    the active model's MODEL_CARD.md."""
    from service.classifier.evaluate import (
        evaluate_languages,
        language_section,
        replace_language_section,
    )
    from service.classifier.registry import active_model_dir
    from service.scoring import MODEL_NAME, get_risk_engine

    settings = current_app.config["DEFUSE"]
    engine = get_risk_engine()
    section = language_section(
        evaluate_languages(settings.models_dir / "data" / "languages", engine), engine
    )
    click.echo(section, nl=False)
    if write_card:
        model_dir = active_model_dir(settings.models_dir, MODEL_NAME)
        if model_dir is None:
            raise click.ClickException("no active model to write a card for")
        card = model_dir / "MODEL_CARD.md"
        card.write_text(replace_language_section(card.read_text("utf-8"), section), "utf-8")
        click.echo(f"wrote {card}")


@model.command("promote")
@click.argument("version")
@with_appcontext
def model_promote(version: str) -> None:
    """Make a candidate live, only if it is no worse than the active model on the frozen test
    split (ROC AUC and recall at high or above, paired bootstrap)."""
    from service.classifier.load import ModelArtifactError
    from service.classifier.registry import PromotionError, compare_for_promotion, set_active
    from service.engine.rules import load_rule_set

    settings = current_app.config["DEFUSE"]
    try:
        decision = compare_for_promotion(
            settings.models_dir, version, load_rule_set(settings.rules_dir), _corpus_dirs()["test"]
        )
    except (PromotionError, ModelArtifactError) as error:
        raise click.ClickException(str(error)) from None
    for comparison in decision.comparisons:
        click.echo(
            f"{comparison.metric}: active {comparison.active:.4f}, candidate "
            f"{comparison.candidate:.4f}, difference 95% CI [{comparison.difference_low:+.4f}, "
            f"{comparison.difference_high:+.4f}], candidate worse in "
            f"{comparison.share_worse:.0%} of resamples"
        )
    if not decision.accepted:
        raise click.ClickException(f"not promoted: {decision.reason}")
    set_active(settings.models_dir, version)
    click.echo(f"promoted escalation/{version}: {decision.reason}")
    click.echo("restart the web app and workers, then run `defuse rescore` for open reports")


@model.command("drift")
@click.option("--months", default=12, show_default=True, type=int)
@with_appcontext
def model_drift(months: int) -> None:
    """Score and level distribution by month, calibration on cases closed since, and a
    warning when either moves beyond its bound. Exits 1 when there is a warning."""
    from service.drift import drift_report, format_drift

    report = drift_report(months=months)
    click.echo(format_drift(report))
    if report.warnings:
        raise SystemExit(1)


@model.command("export-labels")
@click.option(
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL file to write; training data for `defuse model train --data`.",
)
@with_appcontext
def model_export_labels(output: Path) -> None:
    """Write the outcomes of closed cases as labelled JSONL for retraining.

    The file holds scrubbed report text in clear (no ids, contacts or receipts): it is created
    readable by its owner only; keep it inside the models/data folder or delete it after use.
    """
    from service.audit import record
    from service.cases.labels import export_outcome_labels

    rows = export_outcome_labels()
    escalated = sum(1 for row in rows if row["escalated"])
    # Audited before the file is written: an export that then fails is still on record, one
    # that succeeded never missing. Counts and who ran it only, never what the rows say.
    record(
        "export.labels",
        actor_kind="system",
        rows=len(rows),
        escalated=escalated,
        os_user=_os_user(),
        via="cli",
    )
    db.session.commit()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    with os.fdopen(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
    click.echo(f"wrote {len(rows)} labelled cases ({escalated} escalated) to {output}")


# --- the audit log ----------------------------------------------------------------------------


@click.group()
def audit() -> None:
    """The append-only audit log."""


@audit.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the audit log's hash chain from the first event to the last. Prints the last
    event's hash; exits 1 at the first event that was changed, added or removed."""
    from service.audit import verify_chain

    result = verify_chain()
    if result.broken_at is not None:
        click.echo(
            f"audit chain BROKEN at event {result.broken_at}: {result.reason} "
            f"({result.checked} event(s) before it are intact)",
            err=True,
        )
        sys.exit(1)
    click.echo(f"audit chain intact: {result.checked} event(s); last hash {result.head}")


def _os_user() -> str:
    """Who ran a command, for the audit log: the account of the shell it ran in."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return f"uid {os.getuid()}"


# --- keys and retention -----------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Encryption keys."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new Fernet key for DEFUSE_ENCRYPTION_KEYS."""
    from service.privacy.crypto import new_key

    click.echo(new_key())


# A command of `defuse` itself, not of the app: a new production install needs a key before
# the app can start, and FlaskGroup finds its own commands without loading the app.
main.add_command(keys)


@keys.command("rotate")
@click.option("--batch", default=500, show_default=True)
@with_appcontext
def keys_rotate(batch: int) -> None:
    """Re-encrypt every stored text under the first key of DEFUSE_ENCRYPTION_KEYS.

    Put the new key first and keep the old ones after it, restart the app, run this, then
    drop the old keys. The app keeps serving throughout: every live key still decrypts."""
    from service.privacy.rotation import rotate_all

    for table, count in rotate_all(batch=batch).items():
        click.echo(f"{table}: re-encrypted {count} value(s)")


@click.group()
def analytics() -> None:
    """HR analytics."""


@analytics.command("release")
@with_appcontext
def analytics_release() -> None:
    """Freeze the recent complete months and work out what of them may be shown, now rather
    than on the first request (the worker's schedule does this every hour)."""
    from service.analytics.query import release_recent_months

    click.echo(f"{release_recent_months()} month(s) released and ready")


@click.group()
def retention() -> None:
    """Deleting case text after the retention period."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@with_appcontext
def retention_run(dry_run: bool) -> None:
    """Remove text, notes and messages of cases closed longer ago than DEFUSE_RETENTION_DAYS."""
    from service.retention import purge_expired

    result = purge_expired(dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} the text of {result.cases} case(s): {result.notes} note(s), "
        f"{result.messages} message(s)"
    )
