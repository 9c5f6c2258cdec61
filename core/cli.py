"""flask journal … and flask seal …: the kernel's commands."""
import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core import clock, journal, seal
from core.extensions import db

journal_cli = AppGroup("journal", help="The hash-chained journal.")
seal_cli = AppGroup("seal", help="The platform seal (电子见证章).")


@journal_cli.command("verify")
def verify_command():
    """Verify every entry, the chain, the head and the signed checkpoints; exit 1 naming the first failure."""
    def progress(checked, total):
        click.echo(f"\r{checked}/{total}", nl=False, err=True)
    verdict = journal.verify(progress=progress)
    click.echo("", err=True)
    if verdict.ok:
        click.echo(f"OK: {verdict.checked} entries verified.")
        return
    click.echo(f"FAILED at entry {verdict.first_bad_seq}: {verdict.reason} ({verdict.detail})")
    sys.exit(1)


@journal_cli.command("checkpoint")
def checkpoint_command():
    """Sign the current head with the seal now."""
    row = journal.checkpoint(clock.now(), force=True)
    db.session.commit()
    click.echo(f"Checkpoint {row.id}: entry {row.seq}, head {row.head_hash}.")


@journal_cli.command("export")
@click.argument("path", type=click.File("w"))
def export_command(path):
    """Write the journal as JSON Lines for verification without the platform's code (docs/formats.md)."""
    from core.models import Checkpoint, JournalEntry, PlatformKey
    for key in db.session.scalars(select(PlatformKey).order_by(PlatformKey.id)):
        path.write(json.dumps({"type": "certificate", "purpose": key.purpose, "pem": key.certificate_pem}) + "\n")
    for c in db.session.scalars(select(Checkpoint).order_by(Checkpoint.id)):
        path.write(json.dumps({"type": "checkpoint", "body": c.body, "signature": c.signature.hex()}) + "\n")
    for entry in db.session.execute(select(JournalEntry.seq, JournalEntry.body, JournalEntry.hash)
                                    .order_by(JournalEntry.seq).execution_options(yield_per=5000)):
        path.write(json.dumps({"type": "entry", "seq": entry.seq, "body": entry.body, "hash": entry.hash},
                              ensure_ascii=False) + "\n")


@seal_cli.command("init")
def seal_init():
    """Make the platform CA and seal if there are none."""
    key = seal.ensure(clock.now())
    db.session.commit()
    click.echo(f"Seal certificate {key.certificate_sha256}")


@seal_cli.command("rotate")
def seal_rotate():
    """Retire the current seal (kept for verifying old signatures) and make a new one."""
    key = seal.rotate(clock.now())
    db.session.commit()
    click.echo(f"New seal certificate {key.certificate_sha256}")
