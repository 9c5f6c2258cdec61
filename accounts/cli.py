import click
from flask.cli import AppGroup

from sqlalchemy import select

from accounts import auth, demo, organisations, regions
from accounts.models import User
from core import clock
from core.extensions import db

demo_cli = AppGroup("demo", help="Demo organisations and users.")
regions_cli = AppGroup("regions", help="Administrative division codes.")
users_cli = AppGroup("users", help="User accounts.")


# Demo data of other blueprints, loaded after the accounts' (app.py adds them: accounts imports no blueprint).
DEMO_LOADERS: list = []


@demo_cli.command("load")
def demo_load():
    """Load the demo organisations and users (idempotent)."""
    users = demo.load(clock.now())
    for loader in DEMO_LOADERS:
        loader(clock.now())
    db.session.commit()
    click.echo(f"Demo data ready: {len(users)} users, password '{demo.DEMO_PASSWORD}'.")


@demo_cli.command("code")
@click.argument("username")
def demo_code(username):
    """Print the current second-factor code of a demo account (for demos without an authenticator app)."""
    seeds = {u[0]: u[4] for u in demo.USERS if u[4]}
    if username not in seeds:
        raise click.ClickException(f"{username} is not a demo account with a second factor: {', '.join(seeds)}")
    click.echo(auth.current_code(seeds[username], clock.now()))


@regions_cli.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
def regions_load(path):
    """Load or update administrative divisions from a CSV (code,name_zh,name_en,parent_code)."""
    count = regions.load(path) if path else regions.load()
    db.session.commit()
    click.echo(f"{count} regions loaded.")


@users_cli.command("unlock")
@click.argument("username")
def unlock(username):
    """Unlock an account locked after failed sign-ins (journaled, with no actor: the operator's shell)."""
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"No user {username}.")
    organisations.unlock(None, user, clock.now())
    db.session.commit()
    click.echo(f"{username} unlocked.")
