"""flask journal …, flask seal … and flask pki …: the kernel's commands."""
import os
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from core import clock, journal, seal, trust_store
from core.crypto import pki
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
    for line in journal.export_lines(db.engine):
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


pki_cli = AppGroup("pki", help="The trust store and demo certificates for bidders and guarantors.")


def _write_file(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _read_ca(ca_key_path: str, ca_cert_path: str, password: str | None):
    key = pki.load_private_pem(Path(ca_key_path).read_bytes(), password.encode() if password else None)
    return key, pki.read_certificates(Path(ca_cert_path).read_bytes())[0]


@pki_cli.command("make-ca")
@click.option("--name", default="Demo Signing CA", show_default=True, help="The CA's common name.")
@click.option("--organisation", default="Demo Certification Authority", show_default=True)
@click.option("--days", default=3650, show_default=True, type=int)
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for ca.key.pem and ca.pem.")
@click.option("--password", envvar="PKI_KEY_PASSWORD", default=None, help="Encrypt the CA key (else unencrypted, mode 0600).")
def pki_make_ca(name, organisation, days, out, password):
    """Make a demo CA (ECDSA P-256), add it to the trust store with an empty CRL."""
    now = clock.now()
    key, certificate = pki.make_ca(name, organisation, now, days)
    folder = Path(out)
    _write_file(folder / "ca.key.pem", pki.private_pem(key, password.encode() if password else None), private=True)
    _write_file(folder / "ca.pem", pki.pem(certificate).encode())
    trust_store.add_certificate(certificate, None, now)
    trust_store.add_crl(pki.make_crl(key, certificate, now), None, now)
    db.session.commit()
    click.echo(f"CA {pki.fingerprint(certificate)} in the trust store; key in {folder / 'ca.key.pem'}")


@pki_cli.command("issue")
@click.option("--ca-key", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--ca-cert", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="CN: the person or system holding the key.")
@click.option("--organisation", required=True, help="O: the organisation's registered name.")
@click.option("--credit-code", required=True, help="The organisation's unified social credit code (subject serialNumber).")
@click.option("--algorithm", type=click.Choice(pki.ALGORITHMS), default="p256", show_default=True)
@click.option("--days", default=730, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(), help="Path prefix: writes PREFIX.key.pem and PREFIX.pem.")
@click.option("--password", envvar="PKI_KEY_PASSWORD", default=None, help="Password of the CA key, if it has one.")
def pki_issue(ca_key, ca_cert, name, organisation, credit_code, algorithm, days, out, password):
    """Issue a signing certificate (digitalSignature, nonRepudiation) for a demo bidder or guarantor."""
    key, certificate = _read_ca(ca_key, ca_cert, password)
    leaf_key = pki.new_signing_key(algorithm)
    leaf = pki.issue_signing_certificate(key, certificate, leaf_key.public_key(), name, organisation, clock.now(),
                                         days, credit_code=credit_code.strip().upper())
    _write_file(Path(f"{out}.key.pem"), pki.private_pem(leaf_key), private=True)
    _write_file(Path(f"{out}.pem"), pki.pem(leaf).encode())
    click.echo(f"Certificate {pki.fingerprint(leaf)} (serial {leaf.serial_number:x}) in {out}.pem")


@pki_cli.command("revoke")
@click.option("--ca-key", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--ca-cert", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--password", envvar="PKI_KEY_PASSWORD", default=None)
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False))
def pki_revoke(ca_key, ca_cert, password, certificate):
    """Revoke CERTIFICATE: the CA's next CRL (in the trust store) lists it."""
    key, ca = _read_ca(ca_key, ca_cert, password)
    leaf = pki.read_certificates(Path(certificate).read_bytes())[0]
    if leaf.issuer != ca.subject:
        raise click.ClickException("this CA did not issue that certificate")
    now = clock.now()
    current = next((row.crl for row in trust_store.rows() if row.fingerprint == pki.fingerprint(ca)), None)
    crl = pki.revoke(key, ca, current, leaf.serial_number, now)
    trust_store.add_crl(crl, None, now)
    db.session.commit()
    click.echo(f"Revoked serial {leaf.serial_number:x}; CRL number {pki.crl_number(crl)}, {len(crl)} entries.")


@pki_cli.command("list")
def pki_list():
    """The CA certificates in the trust store and their CRLs."""
    for row in trust_store.rows():
        crl = f"CRL next update {row.crl_next_update.isoformat()}, {row.revoked_count} revoked" if row.crl else "no CRL"
        click.echo(f"{row.fingerprint}  {row.subject}  valid {row.not_before.date()}..{row.not_after.date()}  {crl}")
