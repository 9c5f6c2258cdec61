"""Mall tasks (beat): expire unconfirmed orders, freeze listings above the market reference, close
reverse auctions whose window has ended. Each takes no objects, calls services and commits."""
from celery import shared_task

from core import clock
from core.extensions import db
from mall import auctions, listings, orders
from mall.models import Auction


@shared_task
def expire_unconfirmed_orders() -> list[int]:
    """Every minute: orders not confirmed within the confirmation period are cancelled, budget released."""
    done = orders.expire_overdue(clock.now())
    db.session.commit()
    return done


@shared_task
def recheck_listing_prices() -> list[int]:
    """Hourly: freeze approved listings now above their lowest current market reference."""
    frozen = listings.recheck_prices(clock.now())
    db.session.commit()
    return frozen


@shared_task
def close_due_auctions() -> list[int]:
    """Every minute: award (or fail) reverse auctions whose window has closed, one transaction each."""
    closed = []
    for auction_id in auctions.due_ids(clock.now()):
        auction = db.session.get(Auction, auction_id)
        if auction is not None and auction.status == "open":
            auctions.close(None, auction, clock.now())
            db.session.commit()
            closed.append(auction_id)
    return closed
