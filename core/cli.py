"""flask journal … and flask seal …: the kernel's commands."""
import sys

import click
from flask.cli import AppGroup

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
    for line in journal.export_lines():
        path.write(line)


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
