"""eproc-bid seal | verify-receipt | submit (run `eproc-bid COMMAND --help`)."""
import argparse
import hashlib
import mimetypes
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from eproc_bid import formats

SUBMIT_ROUTE = "/api/v1/tender/sections/{section_id}/bids"


def submit(base_url: str, section_id: str, envelope: bytes, token: str, timeout: float = 300) -> tuple[int, bytes]:
    """POST the envelope to ``{base_url}/api/v1/tender/sections/{section_id}/bids`` as
    application/octet-stream with ``Authorization: Bearer <token>`` and an Idempotency-Key derived from
    the envelope (a retry after a lost answer cannot submit twice). Returns (HTTP status, answer body):
    the receipt on success, {"error": {"code", "message"}} otherwise."""
    url = base_url.rstrip("/") + SUBMIT_ROUTE.format(section_id=section_id)
    request = urllib.request.Request(url, data=envelope, method="POST", headers={
        "Content-Type": "application/octet-stream",
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": "envelope-" + hashlib.sha256(envelope).hexdigest(),
        "Accept": "application/json",
        "User-Agent": "eproc-bid/0.1",
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 — the user's URL
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _document(spec: str) -> tuple[str, str, bytes]:
    path, _, kind = spec.partition("=")
    file = Path(path)
    kind = kind or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return file.name, kind, file.read_bytes()


def _term(spec: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep or not name:
        raise formats.FormatError(f"a term is NAME=VALUE, not {spec!r}")
    return name, value


def cmd_seal(args) -> int:
    section = formats.read_section_key(Path(args.section_key).read_bytes())
    password = os.environ[args.key_password_env].encode() if args.key_password_env else None
    key = formats.load_signing_key(Path(args.key).read_bytes(), password)
    certificates = formats.load_certificates(Path(args.certificate).read_bytes())
    for chain in args.chain or []:
        certificates += formats.load_certificates(Path(chain).read_bytes())
    content = formats.pack_content(formats.price_text(args.price), dict(_term(t) for t in args.term or []),
                                   [_document(d) for d in args.document or []])
    envelope = formats.seal(section, content, key, certificates)
    Path(args.out).write_bytes(envelope)
    print(f"Sealed for section {section.section_code} ({section.suite}) by {formats.credit_code(certificates[0])}: "
          f"{args.out}, {len(envelope)} bytes, SHA-256 {hashlib.sha256(envelope).hexdigest()}")
    return 0


def cmd_verify_receipt(args) -> int:
    certificate = formats.load_certificates(Path(args.certificate).read_bytes())[0]
    ca = formats.load_certificates(Path(args.ca).read_bytes())[0] if args.ca else None
    envelope = Path(args.envelope).read_bytes() if args.envelope else None
    body = formats.verify_receipt(Path(args.receipt).read_bytes(), certificate, ca, envelope)
    print(f"Receipt verified: section {body['section']['code']} (id {body['section']['id']}), bidder {body['bidder']}, "
          f"envelope {body['envelope']['sha256']}, received {body['received_at']}, sequence {body['sequence']}")
    return 0


def cmd_submit(args) -> int:
    token = args.token or os.environ.get("EPROC_TOKEN")
    if not token:
        raise formats.FormatError("give the API token with --token or the EPROC_TOKEN environment variable")
    status, answer = submit(args.url, args.section, Path(args.envelope).read_bytes(), token)
    if 200 <= status < 300:
        Path(args.receipt_out).write_bytes(answer)
        print(f"Accepted (HTTP {status}); receipt written to {args.receipt_out}")
        return 0
    print(f"Refused (HTTP {status}): {answer.decode('utf-8', 'replace')}", file=sys.stderr)
    return 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="eproc-bid", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    s = commands.add_parser("seal", help="seal a bid into an envelope file")
    s.add_argument("--section-key", required=True, help="the section's key file, downloaded from the platform")
    s.add_argument("--key", required=True, help="your signing key (PKCS#8 PEM)")
    s.add_argument("--key-password-env", help="name of the environment variable holding the key's password")
    s.add_argument("--certificate", required=True, help="your signing certificate (PEM or DER)")
    s.add_argument("--chain", action="append", help="intermediate CA certificates, if any")
    s.add_argument("--price", required=True, help="the quoted price in yuan, e.g. 1234.50")
    s.add_argument("--term", action="append", help="a quoted term NAME=VALUE (repeatable)")
    s.add_argument("--document", action="append", help="a bid document PATH[=MEDIA-TYPE] (repeatable)")
    s.add_argument("--out", required=True, help="the envelope file to write")
    s.set_defaults(run=cmd_seal)
    v = commands.add_parser("verify-receipt", help="verify a receipt offline")
    v.add_argument("receipt")
    v.add_argument("--certificate", required=True, help="the platform's seal certificate (/seal/certificate.pem)")
    v.add_argument("--ca", help="the platform's root CA (/seal/ca.pem): also check the seal certificate")
    v.add_argument("--envelope", help="also check that the receipt is for this envelope file")
    v.set_defaults(run=cmd_verify_receipt)
    u = commands.add_parser("submit", help="upload an envelope through the platform's API")
    u.add_argument("envelope")
    u.add_argument("--url", required=True, help="the platform's address, e.g. https://ggzy.example.cn")
    u.add_argument("--section", required=True, help="the section's id")
    u.add_argument("--token", help="your API token (or set EPROC_TOKEN)")
    u.add_argument("--receipt-out", default="receipt.json", help="where to write the receipt")
    u.set_defaults(run=cmd_submit)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (formats.FormatError, OSError, ValueError) as error:
        print(f"eproc-bid: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
