"""RFC 8785 canonical JSON (the `rfc8785` package) for everything the platform hashes or signs.

Money travels as decimal strings with two places ("1234.50") and times as ISO-8601 strings with their
offset; a float never appears in a signed or hashed document, so ``canonical`` refuses one.
"""
from datetime import date, datetime, timezone
from decimal import Decimal

import rfc8785

from core import money


def utc_iso(moment: datetime) -> str:
    """The one spelling of a moment in signed documents: UTC, microseconds, '+00:00'."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def prepare(value):
    """Turn platform values into JSON values: Decimal → "1234.50", datetime → ISO string."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        raise TypeError("floats are never signed or hashed: send money as Decimal")
    if isinstance(value, Decimal):
        return money.to_json(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in a canonical document")
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): prepare(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [prepare(v) for v in value]
    raise TypeError(f"cannot put {type(value).__name__} into a canonical document")


def canonical(value) -> bytes:
    return rfc8785.dumps(prepare(value))
