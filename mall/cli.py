"""flask mall …: the periodic jobs by hand, and the fiscal year's end."""
import click
from flask.cli import AppGroup

from core import clock
from core.extensions import db
from mall import budget, listings, orders

mall_cli = AppGroup("mall", help="Government online mall.")


@mall_cli.command("recheck-prices")
def recheck_prices():
    """Freeze approved listings now above their lowest current market reference."""
    frozen = listings.recheck_prices(clock.now())
    db.session.commit()
    click.echo(f"{len(frozen)} listings frozen.")


@mall_cli.command("expire-orders")
def expire_orders():
    """Cancel orders not confirmed in time, releasing their budget."""
    done = orders.expire_overdue(clock.now())
    db.session.commit()
    click.echo(f"{len(done)} orders cancelled.")


@mall_cli.command("year-end")
@click.argument("year", type=int)
def year_end(year):
    """Carry the reservations of unfinished orders on YEAR's budget lines over to YEAR+1's lines of the same
    code, or release them (orders not yet shipped are then cancelled)."""
    report = budget.carry_over(None, year, clock.now())
    db.session.commit()
    for key, numbers in report.items():
        click.echo(f"{key}: {len(numbers)} {' '.join(numbers)}")
