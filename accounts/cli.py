import click
from flask.cli import AppGroup

from accounts import demo
from core import clock
from core.extensions import db

demo_cli = AppGroup("demo", help="Demo organisations and users.")
regions_cli = AppGroup("regions", help="Administrative division codes.")
users_cli = AppGroup("users", help="User accounts.")


@demo_cli.command("load")
def demo_load():
    """Load the demo organisations and users (idempotent)."""
    users = demo.load(clock.now())
    db.session.commit()
    click.echo(f"Demo data ready: {len(users)} users, password '{demo.DEMO_PASSWORD}'.")


@demo_cli.command("code")
@click.argument("username")
def demo_code(username):
    """Print the current second-factor code of a demo account (for demos without an authenticator app)."""
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP
    seeds = {u[0]: u[4] for u in demo.USERS if u[4]}
    if username not in seeds:
        raise click.ClickException(f"{username} is not a demo account with a second factor: {', '.join(seeds)}")
    now = clock.now().timestamp()
    click.echo(TOTP(seeds[username], 6, SHA1(), 30).generate(now).decode())


@regions_cli.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
def regions_load(path):
    """Load or update administrative divisions from a CSV (code,name_zh,name_en,parent_code)."""
    count = demo.load_regions(path) if path else demo.load_regions()
    db.session.commit()
    click.echo(f"{count} regions loaded.")


@users_cli.command("unlock")
@click.argument("username")
def unlock(username):
    """Unlock an account locked after failed sign-ins."""
    from sqlalchemy import select
    from accounts.models import User
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise click.ClickException(f"No user {username}.")
    user.locked, user.locked_until, user.failed_logins = False, None, 0
    db.session.commit()
    click.echo(f"{username} unlocked.")
