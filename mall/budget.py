"""Budget lines of procuring units: created or imported (CSV) by the unit's finance staff for a fiscal
year; an order reserves, cancellation or timeout releases, settlement consumes; at the year's end the
reservations of unfinished orders carry over to the next year's line of the same code, or are released.

Every change of an amount is one guarded UPDATE (``… WHERE amount - reserved - consumed >= :x``): on
PostgreSQL the second of two concurrent orders waits for the first's row lock and then re-reads the row,
so it sees what the first left; on SQLite writers are serialised already. Nothing can overdraw a line,
and the CHECK constraint on the table says so again.
"""
import csv
import io
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select, update

from core import clock, journal, money
from core.errors import DomainError
from core.extensions import db
from core.permissions import Role
from mall import states
from mall.models import BudgetLine, Order

CSV_COLUMNS = ("fiscal_year", "code", "name", "amount")
MAX_IMPORT_ROWS = 5000


def fiscal_year(now: datetime) -> int:
    """China's fiscal year is the calendar year, in Beijing time."""
    return clock.local(now).year


def _check_finance(actor) -> None:
    if actor.role != Role.PROCURING:
        raise DomainError("not_procuring_unit", _("Only a procuring unit's staff manage its budget lines."), 403)


def _validated(actor, fiscal_year_, code, name, amount, now) -> tuple[int, str, str, Decimal]:
    try:
        year = int(str(fiscal_year_).strip())
    except ValueError:
        raise DomainError("fiscal_year_invalid", _("The fiscal year is a year such as 2026.")) from None
    if not (fiscal_year(now) - 1 <= year <= fiscal_year(now) + 1):
        raise DomainError("fiscal_year_out_of_range",
                          _("Budget lines are made for last year, this year or next year only."))
    code, name = str(code or "").strip(), " ".join(str(name or "").split())
    if not code or len(code) > 40:
        raise DomainError("budget_code_invalid", _("Give the budget line's code (at most 40 characters)."))
    if not name or len(name) > 200:
        raise DomainError("budget_name_invalid", _("Name the budget line (at most 200 characters)."))
    amount = money.parse(amount)
    if amount <= 0 or amount >= Decimal("1e16"):
        raise DomainError("amount_out_of_range", _("The amount must be above zero."))
    return year, code, name, amount


def create_line(actor, *, fiscal_year_, code, name, amount, now: datetime) -> BudgetLine:
    _check_finance(actor)
    year, code, name, amount = _validated(actor, fiscal_year_, code, name, amount, now)
    if db.session.scalar(select(BudgetLine.id).where(BudgetLine.unit_id == actor.organisation_id,
                                                     BudgetLine.fiscal_year == year, BudgetLine.code == code)):
        raise DomainError("budget_line_exists",
                          _("Your unit has a budget line %(code)s for %(year)s already.", code=code, year=year), 409)
    line = BudgetLine(unit_id=actor.organisation_id, fiscal_year=year, code=code, name=name, amount=amount,
                      reserved=Decimal("0"), consumed=Decimal("0"), created_by_id=actor.id, created_at=now)
    db.session.add(line)
    db.session.flush()
    journal.record("mall.budget_line.created", "mall_budget_line", line.id,
                   {"fiscal_year": year, "code": code, "name": name, "amount": money.to_json(amount)},
                   actor=actor, now=now)
    return line


class ImportRefused(DomainError):
    """A CSV with bad rows: nothing is imported; ``problems`` names each bad row."""

    def __init__(self, message: str, problems: list[tuple[int, str]]):
        super().__init__("import_refused", message, 422)
        self.problems = problems


def read_csv(data: bytes | str, columns: tuple, max_rows: int) -> list[tuple[int, dict]]:
    """(line number, row) for each data row of a UTF-8 CSV (a BOM is allowed) with the given header."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError("csv_encoding", _("Save the file as UTF-8 CSV.")) from None
    reader = csv.DictReader(io.StringIO(data))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise DomainError("csv_header", _("The first line must name the columns %(columns)s; missing: %(missing)s.",
                                          columns=", ".join(columns), missing=", ".join(missing)))
    reader.fieldnames = header
    rows = []
    for row in reader:
        if len(rows) >= max_rows:
            raise DomainError("csv_too_long", _("At most %(count)s rows per file.", count=max_rows))
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        rows.append((reader.line_num, {k: (row.get(k) or "").strip() for k in columns}))
    if not rows:
        raise DomainError("csv_empty", _("The file has no rows."))
    return rows


def import_lines(actor, data: bytes | str, now: datetime) -> list[BudgetLine]:
    """All or nothing: any bad row refuses the whole file, naming every bad row and why."""
    _check_finance(actor)
    rows = read_csv(data, CSV_COLUMNS, MAX_IMPORT_ROWS)
    problems, made, seen = [], [], set()
    for line_number, row in rows:
        try:
            key = (str(row["fiscal_year"]).strip(), row["code"])
            if key in seen:
                raise DomainError("budget_line_exists", _("The file names this line twice."))
            seen.add(key)
            with db.session.begin_nested():
                made.append(create_line(actor, fiscal_year_=row["fiscal_year"], code=row["code"], name=row["name"],
                                        amount=row["amount"], now=now))
        except DomainError as error:
            problems.append((line_number, error.message))
    if problems:
        raise ImportRefused(_("Nothing was imported: %(count)s rows are wrong.", count=len(problems)), problems)
    return made


# Reserve, release, consume: one guarded UPDATE each.

def reserve(line_id: int, amount: Decimal) -> None:
    done = db.session.execute(
        update(BudgetLine).where(BudgetLine.id == line_id,
                                 BudgetLine.amount - BudgetLine.reserved - BudgetLine.consumed >= amount)
        .values(reserved=BudgetLine.reserved + amount).execution_options(synchronize_session=False)).rowcount
    _expire(line_id)
    if done != 1:
        line = db.session.get(BudgetLine, line_id)
        raise DomainError("budget_insufficient",
                          _("The budget line %(code)s has %(available)s left, not enough for %(amount)s.",
                            code=line.code, available=money.format_exact(line.available),
                            amount=money.format_exact(amount)), 409)


def release(line_id: int, amount: Decimal) -> None:
    if amount <= 0:
        return
    done = db.session.execute(
        update(BudgetLine).where(BudgetLine.id == line_id, BudgetLine.reserved >= amount)
        .values(reserved=BudgetLine.reserved - amount).execution_options(synchronize_session=False)).rowcount
    _expire(line_id)
    if done != 1:
        raise RuntimeError(f"budget line {line_id} holds less than the {amount} to release")


def consume(line_id: int, reserved: Decimal, amount: Decimal) -> None:
    """Settlement: the order's reservation becomes ``amount`` consumed (never more than was reserved)."""
    if amount > reserved:
        raise RuntimeError("consuming more than was reserved")
    done = db.session.execute(
        update(BudgetLine).where(BudgetLine.id == line_id, BudgetLine.reserved >= reserved)
        .values(reserved=BudgetLine.reserved - reserved, consumed=BudgetLine.consumed + amount)
        .execution_options(synchronize_session=False)).rowcount
    _expire(line_id)
    if done != 1:
        raise RuntimeError(f"budget line {line_id} holds less than the {reserved} to consume")


def _expire(line_id: int) -> None:
    line = db.session.identity_map.get(db.session.identity_key(BudgetLine, line_id))
    if line is not None:
        db.session.expire(line, ["reserved", "consumed"])


def usable_lines(unit_id: int, now: datetime) -> list[BudgetLine]:
    return list(db.session.scalars(select(BudgetLine).where(BudgetLine.unit_id == unit_id,
                                                            BudgetLine.fiscal_year == fiscal_year(now))
                                   .order_by(BudgetLine.code)))


def lines_of(unit_id: int) -> list[BudgetLine]:
    return list(db.session.scalars(select(BudgetLine).where(BudgetLine.unit_id == unit_id)
                                   .order_by(BudgetLine.fiscal_year.desc(), BudgetLine.code)))


def carry_over(actor, year: int, now: datetime) -> dict:
    """Year end: each unfinished order's reservation on a line of ``year`` moves to the line with the same
    code in ``year + 1`` when that line can hold it; otherwise it is released and an order not yet shipped
    is cancelled (an order past shipping keeps its reservation and is listed for the finance staff)."""
    from mall import orders as order_service  # orders import this module
    report = {"carried": [], "cancelled": [], "kept": []}
    rows = db.session.scalars(select(Order).join(BudgetLine, Order.budget_line_id == BudgetLine.id)
                              .where(BudgetLine.fiscal_year == year, Order.status.in_(states.ORDER_UNFINISHED),
                                     Order.reserved > 0).order_by(Order.id))
    for order in list(rows):
        old = order.budget_line
        new = db.session.scalar(select(BudgetLine).where(BudgetLine.unit_id == old.unit_id,
                                                         BudgetLine.fiscal_year == year + 1,
                                                         BudgetLine.code == old.code))
        if new is not None:
            try:
                with db.session.begin_nested():
                    reserve(new.id, order.reserved)
                    release(old.id, order.reserved)
                    order.budget_line_id = new.id
                    journal.record("mall.order.carried_over", "mall_order", order.id,
                                   {"from_line": old.id, "to_line": new.id, "amount": money.to_json(order.reserved)},
                                   actor=actor, now=now, organisation_id=order.unit_id)
                report["carried"].append(order.number)
                continue
            except DomainError:
                pass
        if order.status in ("placed", "confirmed"):
            order_service.cancel(actor, order, _("Year-end: the budget line of %(year)s has closed.", year=year),
                                 now, system=True)
            report["cancelled"].append(order.number)
        else:
            report["kept"].append(order.number)
    db.session.flush()
    return report
