"""The historical import: every row or none, with a report naming each bad row and why."""
from decimal import Decimal

from sqlalchemy import func, select

from accounts import credit_code
from core.extensions import db
from core.models import JournalEntry
from tender.history import COLUMNS
from tender.models import Project, Section

UNIT = credit_code.complete("11320100466000002")  # the demo education bureau
HEADER = ",".join(COLUMNS)
GOOD = [
    f"H2024-001,老城区道路改造,H2024-001-01,一标段,工程建设,320100,公开招标,{UNIT},5000000.00,4520000.00,2024-05-20,7",
    f"H2024-001,老城区道路改造,H2024-001-02,二标段,works,320102,open,{UNIT},3000000,2890000.5,2024-06-03,5",
    f"H2024-002,办公设备采购,H2024-002-01,设备,政府采购,320115,询价,{credit_code.complete('11320100466000099')},800000,,2024-07-01,2",
]


def csv(*rows: str) -> bytes:
    return ("\ufeff" + "\n".join([HEADER, *rows]) + "\n").encode()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_good_file_imports_every_row(app, demo):
    result = app.test_cli_runner().invoke(args=["tender", "import", "-"], input=csv(*GOOD))
    assert result.exit_code == 0, result.output
    assert "Imported 3 sections (1 failed) of 2 projects." in result.output
    sections = {s.code: s for s in db.session.scalars(select(Section))}
    first = sections["H2024-001-01"]
    assert (first.category, first.method, first.status) == ("works", "open", "awarded")
    assert (first.base_amount, first.deal_amount, first.bidder_count) == (Decimal("5000000.00"), Decimal("4520000.00"), 7)
    assert sections["H2024-001-02"].deal_amount == Decimal("2890000.50")
    failed = sections["H2024-002-01"]
    assert failed.status == "failed" and failed.deal_amount is None
    # A unit known to the platform is linked; an unknown one is kept by its credit code.
    assert first.project.procuring_unit_id == demo["procuring"].organisation_id
    assert failed.project.procuring_unit_id is None and failed.project.historical
    assert db.session.scalar(select(JournalEntry).where(JournalEntry.action == "tender.history.imported"))


def test_a_bad_row_changes_nothing_and_every_bad_row_is_named(app, demo):
    bad = GOOD + [
        f"H2024-003,坏行,H2024-003-01,标段,矿业权,999999,拍卖,{UNIT[:-1]}X,abc,12.345,2024-13-01,many",
        f"H2024-004,重复,H2024-001-01,标段,works,320100,open,{UNIT},100,90,2024-01-01,3",
    ]
    result = app.test_cli_runner().invoke(args=["tender", "import", "-"], input=csv(*bad))
    assert result.exit_code != 0
    out = result.output  # the command speaks the platform's default language, Chinese
    assert "未导入任何数据：有 2 行有误" in out
    for expected in ("line 5: category 的值 '矿业权'", "line 5: region_code 的值 '999999'", "line 5: method 的值 '拍卖'",
                     "line 5: procuring_unit_credit_code 的值", "line 5: base_amount 的值 'abc'",
                     "line 5: deal_amount 的值 '12.345'", "line 5: award_date 的值 '2024-13-01'",
                     "line 5: bidder_count 的值 'many'", "line 6: section_code 的值 H2024-001-01 在第 2 行也出现"):
        assert expected in out, out
    assert count(Section) == 0 and count(Project) == 0


def test_codes_already_on_the_platform_are_refused(app, demo):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tender", "import", "-"], input=csv(GOOD[0])).exit_code == 0
    again = runner.invoke(args=["tender", "import", "-"], input=csv(GOOD[0]))
    assert again.exit_code != 0 and "项目 H2024-001 已在平台上" in again.output
    assert count(Section) == 1


def test_files_that_are_not_the_format_are_refused_with_a_reason(app, demo):
    runner = app.test_cli_runner()
    def output(data: bytes) -> str:
        return runner.invoke(args=["tender", "import", "-"], input=data).output
    assert "文件不是 UTF-8 编码的文本" in output("a,b\n".encode("gbk") + "中".encode("gbk"))
    assert "表头缺少以下列" in output(b"project_code\nx\n")
    assert "文件中没有数据行" in output(csv())


def test_the_admin_uploads_a_file_and_reads_the_report(login):
    import io
    admin = login("admin")
    page = admin.post("/tender/history/import", data={"file": (io.BytesIO(csv(GOOD[0], "x,,y,,,,,,,,,")), "h.csv")},
                      content_type="multipart/form-data")
    assert page.status_code == 422
    assert "Nothing was imported" in page.text and "project_name is empty" in page.text
    assert count(Section) == 0
    page = admin.post("/tender/history/import", data={"file": (io.BytesIO(csv(*GOOD)), "h.csv")},
                      content_type="multipart/form-data")
    assert page.status_code == 200 and "Imported 3 sections (1 failed) of 2 projects." in page.text
