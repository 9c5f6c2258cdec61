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
