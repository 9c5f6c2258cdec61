"""A section closed at its deadline with real sealed bids (and guarantees) from demo bidders, ready to open."""
from datetime import timedelta

from core import clock
from core.extensions import db
from tender import bids, opening as openings, participation, publication
from tests.tender.factories import GuarantorPki, issue_guarantee, make_guarantor

PIN = "demo-pin-2026"
BIDDERS = ("bidder1", "bidder2", "bidder3")


class Closed:
    """``section`` published, bid on by ``bidders`` at ``prices`` (each with a guarantee from a trusted CA unless
    ``guarantees`` says False for it; sealed by ``sealers[name]`` if given, else as the bidder's tool does), and
    closed at its deadline; ``at`` is a moment just after it."""

    def __init__(self, demo, section, bidder_pki, prices=("980000.00", "950000.00", "990000.00"), guarantees=None,
                 bidders=BIDDERS, ips=None, sealers=None):
        now = clock.now()
        self.section, self.demo = section, demo
        guarantor = make_guarantor("南京测试融资担保有限公司", f"91320100MA1H{section.id:05d}")
        self.guarantor_pki = GuarantorPki(now)
        self.guarantor_pki.install()
        self.bids, self.guarantees = [], []
        for i, (name, price) in enumerate(zip(bidders, prices, strict=False)):
            user = demo[name]
            participation.register(user, section, now)
            if guarantees is None or guarantees[i]:
                self.guarantees.append(issue_guarantee(guarantor, section, user.organisation, self.guarantor_pki))
            ip = ips[i] if ips else f"198.51.100.{10 + i}"
            sealer = (sealers or {}).get(name, bidder_pki.seal)
            self.bids.append(bids.submit(user, section, sealer(section, user, price=price, marker=name),
                                         now, ip, "eproc-bid/1.0"))
        self.at = section.deadline + timedelta(minutes=1)
        publication.close_due(section.deadline)
        db.session.commit()

    def start(self):
        opening = openings.start(self.demo["centre"], self.section, self.at)
        db.session.commit()
        return opening

    def release(self, opening, *names, at=None):
        """Keyholders release their shares (the k-th starts the decryption: eager in tests, after the commit)."""
        for name in names:
            openings.release(self.demo[name], opening, PIN, at or self.at, "203.0.113.9")
            db.session.commit()
        db.session.refresh(opening)
        return opening

    def opened(self):
        """Started, two shares released, every bid decided."""
        return self.release(self.start(), "centre", "supervisor")
