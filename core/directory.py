"""What the kernel may know about people: the few columns of the ``user`` table it needs, read by name.

The kernel imports no blueprint, yet notifications must find an e-mail address and pages must name who
changed something. This module is the one place that reaches into the accounts' table for that.
"""
from sqlalchemy import column, select, table

from core.extensions import db

users = table("user", column("id"), column("name"), column("email"), column("role"), column("status"),
              column("language"))


def names(user_ids) -> dict[int, str]:
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {row.id: row.name for row in db.session.execute(select(users.c.id, users.c.name)
                                                           .where(users.c.id.in_(ids)))}


def active_ids_with_role(role: str) -> list[int]:
    return list(db.session.scalars(select(users.c.id).where(users.c.role == role, users.c.status == "active")))


def languages(user_ids) -> dict[int, str | None]:
    """Each user's language (None: not known yet)."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {row.id: row.language for row in db.session.execute(select(users.c.id, users.c.language)
                                                               .where(users.c.id.in_(ids)))}
