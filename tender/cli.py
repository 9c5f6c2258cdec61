import click
from flask.cli import AppGroup

from core import clock
from core.extensions import db
from tender import history

tender_cli = AppGroup("tender", help="Tendering.")


@tender_cli.command("import")
@click.argument("csv_file", type=click.File("rb"))
def import_history(csv_file):
    """Import completed historical sections from CSV_FILE: every row, or none if any row is wrong."""
    try:
        report = history.import_csv(None, csv_file.read(), clock.now())
    except history.ImportRefused as refused:
        db.session.rollback()
        for line, message in refused.report.errors:
            click.echo(f"line {line}: {message}", err=True)
        raise click.ClickException(refused.message) from None
    db.session.commit()
    click.echo(f"Imported {report.sections} sections ({report.failed} failed) of {report.projects} projects.")
