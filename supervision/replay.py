"""A past opening replayed from the journal alone: the entries of the section, step by step, each with the
hall's state as it stood after it (keyholders released, sign-ins, bids decided with prices, the decision, the
seal, the bidders' responses). The opening tables are read only at the end, to check the replay against the
sealed record: the record's SHA-256 named in the journal, and what the record says against what was replayed.
"""
import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from core.extensions import db
from core import journal
from core.db import snapshot
from core.models import Checkpoint, JournalEntry, JournalHead
from tender.models import Opening, Section

ACTIONS = ("tender.section.start_opening", "tender.opening.signed_in", "tender.opening.share_released",
           "tender.opening.decryption_started", "tender.opening.bids_decided", "tender.opening.bid_decided",
           "tender.opening.decrypted",
           "tender.opening.decided", "tender.section.suspend_opening", "tender.section.finish_opening",
           "tender.section.fail", "tender.opening.record_confirmed", "tender.opening.record_objected",
           "tender.opening.objection_answered")


@dataclass
class Step:
    seq: int
    time: datetime
    actor_id: int | None
    action: str
    payload: dict
    state: dict


@dataclass
class Check:
    """The replay against the sealed record of one attempt: ``hash_matches`` compares the SHA-256 the journal
    names with the stored record's; ``differences`` lists what the record says otherwise than the replay."""
    opening_id: int
    attempt: int
    hash_matches: bool
    differences: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.hash_matches and not self.differences


def _empty(attempt: int, opening_id) -> dict:
    return {"attempt": attempt, "opening": opening_id, "status": "releasing", "keyholders": [], "sign_ins": [],
            "bids_total": None, "bids": [], "valid": None, "decision": None, "suspension": None, "sealed": None,
            "record_sha256": None, "failed": None, "responses": []}


def _apply(state: dict | None, action: str, payload: dict, time: str) -> dict:
    """The hall's state after one journal entry (a new attempt starts afresh)."""
    if action == "tender.section.start_opening" or state is None:
        state = _empty(payload.get("attempt", 1), payload.get("opening"))
        if action == "tender.section.start_opening":
            return state
    state = copy.deepcopy(state)
    if action == "tender.opening.signed_in":
        state["sign_ins"].append({"credit_code": payload.get("bidder"), "at": time, "ip": payload.get("ip")})
    elif action == "tender.opening.share_released":
        state["keyholders"].append({"role": payload.get("role"), "at": time})
    elif action == "tender.opening.decryption_started":
        state["status"], state["bids_total"] = "decrypting", payload.get("bids")
    elif action in ("tender.opening.bids_decided", "tender.opening.bid_decided"):  # a batch; one bid (before 2026-12)
        for bid in payload.get("bids", [payload]):
            state["bids"].append({k: bid.get(k) for k in ("sequence", "bidder", "outcome", "cause", "price",
                                                          "guarantee")})
        state["bids"].sort(key=lambda b: b["sequence"] or 0)
    elif action == "tender.opening.decrypted":
        state["status"], state["valid"] = "decrypted", payload.get("valid")
    elif action == "tender.opening.decided":
        state["decision"] = {"decision": payload.get("decision"), "ground": payload.get("ground")}
    elif action == "tender.section.suspend_opening":
        state["status"] = "suspended"
        state["suspension"] = {"note": payload.get("note"), "rescheduled_to": payload.get("rescheduled_to"),
                               "not_released": [m.get("role") for m in payload.get("not_released", [])]}
    elif action == "tender.section.finish_opening":
        state["status"], state["sealed"], state["record_sha256"] = "sealed", time, payload.get("record_sha256")
    elif action == "tender.section.fail":
        state["failed"] = payload.get("reason") or payload.get("note") or ""
    elif action in ("tender.opening.record_confirmed", "tender.opening.record_objected"):
        state["responses"].append({"bidder": payload.get("bidder"), "at": time,
                                   "kind": "confirm" if action.endswith("confirmed") else "object",
                                   "text": payload.get("text", ""), "answer": None})
    elif action == "tender.opening.objection_answered":
        for response in state["responses"]:
            if response["bidder"] == payload.get("bidder") and response["kind"] == "object":
                response["answer"] = payload.get("answer")
    return state


def steps(section: Section) -> list[Step]:
    """Every opening step of the section in journal order, with the state after each."""
    rows = db.session.scalars(select(JournalEntry).where(JournalEntry.subject_type == "section",
                                                         JournalEntry.subject_id == str(section.id),
                                                         JournalEntry.action.in_(ACTIONS))
                              .order_by(JournalEntry.seq))
    result, state = [], None
    for entry in rows:
        body = json.loads(entry.body)  # the body is the source of truth, not the columns
        if body["action"] == "tender.section.fail" and state is None:
            continue  # a failure before any opening (no bids) is not part of an opening
        state = _apply(state, body["action"], body["payload"], body["time"])
        result.append(Step(entry.seq, entry.recorded_at, body["actor"], body["action"], body["payload"], state))
    return result


def _price(value) -> Decimal | None:
    return Decimal(value) if value is not None else None


def check(step: Step) -> Check | None:
    """The replayed state of a sealed attempt against the stored, sealed record."""
    state = step.state
    if state["sealed"] is None or state["opening"] is None:
        return None
    opening = db.session.get(Opening, state["opening"])
    stored = opening.record if opening is not None else None
    digest = hashlib.sha256(stored.encode("utf-8")).hexdigest() if stored else None
    result = Check(state["opening"], state["attempt"], digest is not None and digest == state["record_sha256"])
    if stored is None:
        result.differences.append("record")
        return result
    record = json.loads(json.loads(stored)["body"])
    if sorted((k["role"], k["at"]) for k in record["keyholders"]) != sorted((k["role"], k["at"])
                                                                            for k in state["keyholders"]):
        result.differences.append("keyholders")
    if sorted((s["credit_code"], s["at"]) for s in record["sign_ins"]) != sorted(
            (s["credit_code"], s["at"]) for s in state["sign_ins"]):
        result.differences.append("sign_ins")
    recorded = sorted((b["sequence"], b["bidder"]["credit_code"], b["outcome"], b["cause"], _price(b["price"]),
                       b["guarantee"]["verdict"]) for b in record["bids"])
    replayed = sorted((b["sequence"], b["bidder"], b["outcome"], b["cause"], _price(b["price"]), b["guarantee"])
                      for b in state["bids"])
    if recorded != replayed:
        result.differences.append("bids")
    if record["decision"] != state["decision"]:
        result.differences.append("decision")
    if record["attempt"] != state["attempt"]:
        result.differences.append("attempt")
    return result


def checks(replayed: list[Step]) -> list[Check]:
    """One check per sealed attempt (the step that sealed it)."""
    return [c for c in (check(s) for s in replayed if s.action == "tender.section.finish_opening") if c]


# The section's extract of the journal (docs/formats.md, "A section's extract").

def _covering(checkpoints, seq: int):
    """The first checkpoint at or after entry ``seq``."""
    return next((c for c in checkpoints if c.seq >= seq), None)


def export_lines(engine, section_id: int):
    """The seal certificates, the checkpoints from the section's first entry to the one covering its last,
    the section's entries whole, and, for every other entry between one of the section's and the checkpoint
    that covers it, only its sequence number, hash and prev: its content is withheld. Read from one snapshot
    of its own (``core.db.snapshot``), as the whole journal's export."""
    with snapshot(engine) as connection:
        seqs = list(connection.scalars(select(JournalEntry.seq).where(JournalEntry.subject_type == "section",
                                                                      JournalEntry.subject_id == str(section_id))
                                       .order_by(JournalEntry.seq)))
        yield from journal.certificate_lines(connection)
        if not seqs:
            return
        checkpoints = connection.execute(select(Checkpoint.seq, Checkpoint.body, Checkpoint.signature)
                                         .where(Checkpoint.seq >= seqs[0])
                                         .order_by(Checkpoint.seq, Checkpoint.id)).all()
        last = _covering(checkpoints, seqs[-1])
        for c in checkpoints:
            if last is None or c.seq <= last.seq:
                yield json.dumps({"type": "checkpoint", "body": c.body, "signature": c.signature.hex()}) + "\n"
        # The ranges to list: from each of the section's entries to the checkpoint that covers it (or the head).
        ranges, head = [], connection.scalar(select(JournalHead.seq).where(JournalHead.id == 1))
        for seq in seqs:
            covering = _covering(checkpoints, seq)
            end = covering.seq if covering is not None else head
            if ranges and seq <= ranges[-1][1] + 1:
                ranges[-1][1] = max(ranges[-1][1], end)
            else:
                ranges.append([seq, end])
        mine = set(seqs)
        for first, end in ranges:
            rows = connection.execute(select(JournalEntry.seq, JournalEntry.body, JournalEntry.prev_hash,
                                             JournalEntry.hash)
                                      .where(JournalEntry.seq >= first, JournalEntry.seq <= end)
                                      .order_by(JournalEntry.seq).execution_options(yield_per=5000))
            for row in rows:
                if row.seq in mine:
                    yield json.dumps({"type": "entry", "seq": row.seq, "body": row.body, "hash": row.hash},
                                     ensure_ascii=False) + "\n"
                else:
                    yield json.dumps({"type": "withheld", "seq": row.seq, "prev": row.prev_hash,
                                      "hash": row.hash}) + "\n"
