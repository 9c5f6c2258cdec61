from pathlib import Path

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


@tender_cli.command("sign-guarantee")
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The guarantor's private key (PEM), as `flask pki issue` writes it.")
@click.option("--cert", "cert_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The guarantor's certificate (PEM; a chain may follow, signer first).")
@click.option("--section", "section_code", required=True, help="The section code, e.g. P320100-2026-00001-01.")
@click.option("--bidder", "bidder_code", required=True, help="The bidder's unified social credit code.")
@click.option("--number", default=None, help="The guarantee number (default: made from the section and bidder).")
@click.option("--amount", default=None, help="Yuan (default: the section's required bid guarantee).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the signed file.")
@click.option("--password", envvar="PKI_KEY_PASSWORD", default=None, help="Password of the key, if it has one.")
def sign_guarantee(key_path, cert_path, section_code, bidder_code, number, amount, out, password):
    """Sign a demo electronic bid guarantee for a published section and a bidder; upload the file on
    /tender/guarantees/new as the guarantor organisation the certificate names."""
    from sqlalchemy import select

    from accounts.models import Organisation
    from core import money
    from core.crypto import pki
    from tender import guarantees
    from tender.models import Section
    section = db.session.scalar(select(Section).where(Section.code == section_code.strip()))
    if section is None or section.deadline is None:
        raise click.ClickException(f"no published section {section_code}")
    bidder = db.session.scalar(select(Organisation).where(Organisation.credit_code == bidder_code.strip().upper()))
    if bidder is None:
        raise click.ClickException(f"no organisation with the credit code {bidder_code}")
    key = pki.load_private_pem(Path(key_path).read_bytes(), password.encode() if password else None)
    certificates = pki.read_certificates(Path(cert_path).read_bytes())
    signed = guarantees.sign_for(section, bidder, key, certificates, clock.now(), number=number,
                                 amount=money.parse(amount) if amount else None)
    Path(out).write_bytes(signed)
    click.echo(f"Signed guarantee for {bidder.name} on {section.code} written to {out}: upload it as "
               f"{pki.organisation_of(certificates[0])} ({pki.credit_code_of(certificates[0])}).")
