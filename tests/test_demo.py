"""`flask demo load`, as `make run` calls it: everything a person needs to try the platform, loaded once
however often it runs, with three years of imported history that the statistics dashboard shows at once."""
import re
from decimal import Decimal

from sqlalchemy import func, select

from core.extensions import db
from core.models import JournalEntry
from tender.models import Section


def test_demo_load_twice_loads_once_and_the_dashboard_shows_the_history(app, login):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
    db.session.expire_all()
    history = db.session.scalars(select(Section).where(Section.code.like("HIST-DEMO-%"))).all()
    assert len(history) > 200
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)
                             .where(JournalEntry.action == "tender.history.imported")) == 1
    awarded = [s for s in history if s.deal_amount is not None]
    assert any(s.deal_amount is None for s in history) and {s.category for s in history} == {"works", "procurement",
                                                                                               "other"}
    expected = sum(s.base_amount - s.deal_amount for s in awarded) / sum(s.base_amount for s in awarded)
    page = login("supervisor").get("/supervision/statistics").text
    shown = re.search(r'id="savings-rate">([^<]*)<', page).group(1)
    assert Decimal(shown.strip().rstrip("%")) == (expected * 100).quantize(Decimal("0.01"))
