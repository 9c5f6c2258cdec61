"""The materials a project's application must include, per category, each critical or not.

Only a non-critical item may be accepted with a gap (容缺受理); a missing or defective critical item
sends the application back. Kept in code rather than a table: it changes with the regulations, through a
reviewed change, like the rest of the rules.
"""
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Item:
    key: str
    label: object
    critical: bool


_COMMON = [
    Item("approval", _l("Project approval or filing document (立项批复/备案)"), True),
    Item("funding", _l("Proof that the funds are in place (资金落实证明)"), True),
    Item("tender_documents", _l("Draft tender documents (招标文件)"), True),
    Item("agency_contract", _l("Procurement agency contract (委托代理协议)"), False),
    Item("authorisation", _l("Letter of authorisation of the person in charge (授权委托书)"), False),
]

CHECKLISTS = {
    "works": _COMMON + [
        Item("control_price", _l("Control price report (招标控制价编制报告)"), True),
        Item("drawings", _l("Construction drawings review certificate (施工图审查合格书)"), False),
    ],
    "procurement": _COMMON + [
        Item("procurement_plan", _l("Government procurement plan (政府采购计划)"), True),
        Item("requirement_survey", _l("Requirement survey and market research (需求调查)"), False),
    ],
    "other": _COMMON,
}


def checklist(category: str) -> list[Item]:
    return CHECKLISTS.get(category, CHECKLISTS["other"])


def item(category: str, key: str) -> Item | None:
    return next((i for i in checklist(category) if i.key == key), None)
