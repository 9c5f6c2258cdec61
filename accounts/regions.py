"""行政区划代码: the administrative divisions organisations belong to, loaded from a CSV."""
import csv
from pathlib import Path

from accounts.models import Region
from core.extensions import db

REGIONS_CSV = Path(__file__).resolve().parent.parent / "core" / "data" / "regions.csv"


def load(path: Path = REGIONS_CSV) -> int:
    """Add or update every row of the CSV (code,name_zh,name_en,parent_code); idempotent."""
    count = 0
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            region = db.session.get(Region, row["code"]) or Region(code=row["code"])
            region.name_zh, region.name_en = row["name_zh"], row["name_en"]
            region.parent_code = row["parent_code"] or None
            db.session.add(region)
            count += 1
    db.session.flush()
    return count


# Which divisions lie within which: a province's code (…0000) covers its cities, a city's (…00) its districts.

def prefix(code: str) -> str:
    """What every code within ``code`` starts with: 320000 → 32, 320100 → 3201, a district's code itself."""
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code


def within(column, code: str):
    """SQL: ``column`` (a region code) lies within ``code``."""
    start = prefix(code)
    return column == code if start == code else column.startswith(start)


def contains(code: str, other: str) -> bool:
    return other == code or other.startswith(prefix(code))
