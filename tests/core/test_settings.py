"""Settings of the trade: defaults, admin changes, effective dates that never rewrite the past."""
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from core import clock, settings
from core.errors import DomainError
from core.extensions import db


def test_defaults_apply_until_changed(demo):
    assert settings.value("tender.min_days.works.open") == 20
    assert settings.value("mall.direct_purchase_limit") == Decimal("300000.00")


def test_a_change_applies_from_its_moment_and_the_past_keeps_the_old_value(demo):
    now = clock.now()
    later = now + timedelta(days=10)
    settings.change(demo["admin"], "tender.min_days.works.open", "25", later, "新规施行", now)
    db.session.commit()
    assert settings.value("tender.min_days.works.open", now) == 20
    assert settings.value("tender.min_days.works.open", later - timedelta(seconds=1)) == 20
    assert settings.value("tender.min_days.works.open", later) == 25
    with time_machine.travel(later + timedelta(hours=1)):
        assert settings.value("tender.min_days.works.open") == 25


@pytest.mark.parametrize("key, raw, effective, reason, code", [
    ("no.such.setting", "1", None, "r", "setting_unknown"),
    ("tender.min_days.works.open", "twenty", None, "r", "setting_invalid"),
    ("tender.min_days.works.open", "0", None, "r", "setting_out_of_range"),
    ("tender.min_days.works.open", "366", None, "r", "setting_out_of_range"),
    ("tender.min_days.works.open", "21", "past", "r", "setting_backdated"),
    ("tender.min_days.works.open", "21", None, " ", "reason_required"),
])
def test_bad_changes_are_refused_with_a_reason(demo, key, raw, effective, reason, code):
    now = clock.now()
    with pytest.raises(DomainError) as refused:
        settings.change(demo["admin"], key, raw, now - timedelta(days=1) if effective else None, reason, now)
    assert refused.value.code == code


def test_the_admin_page_changes_a_setting_in_beijing_time(login, demo):
    admin = login("admin")
    assert "tender.min_days.works.open" in admin.get("/admin/settings").text
    answer = admin.post("/admin/settings/tender.min_days.works.open",
                        data={"value": "30", "effective_from": "2099-01-01T00:00", "reason": "市里新规"})
    assert answer.status_code == 302
    row = settings.history("tender.min_days.works.open")[0]
    assert row.effective_from.isoformat() == "2098-12-31T16:00:00+00:00"  # midnight in Shanghai
    page = admin.get("/admin/settings").text
    assert "2099-01-01 00:00" in page and "市里新规" in page


def test_only_admins_change_settings(login, demo):
    assert login("centre").post("/admin/settings/tender.min_days.works.open",
                                data={"value": "30", "reason": "x"}).status_code == 403
