"""Database helpers: SQLite set up for several writing processes, and small model mixins."""
from contextlib import contextmanager
from datetime import timezone

from flask import abort
from sqlalchemy import DateTime, Numeric, TypeDecorator, event
from sqlalchemy.engine import Engine

from core.extensions import db


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use core.clock.now()")
        return value.astimezone(timezone.utc).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def Money():  # noqa: N802 - reads as a column type
    """Money columns: CNY with two places, returned as Decimal."""
    return Numeric(18, 2, asdecimal=True)


def install_sqlite_pragmas(engine: Engine) -> None:
    """Web, worker and beat write to one SQLite file: WAL, a busy timeout, and write
    transactions begun immediately so that two writers queue instead of failing mid-way."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # A snapshot read (see ``snapshot``) begins deferred: in WAL mode it then holds up no writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("snapshot_read") else "BEGIN IMMEDIATE")


@contextmanager
def snapshot(engine: Engine):
    """A connection of its own that reads one consistent snapshot and holds no lock a writer waits for, for
    work that outlasts a request, such as an export streamed to a slow client: on SQLite a deferred read
    transaction (every other transaction here begins IMMEDIATE and would block all writers meanwhile), on
    PostgreSQL a REPEATABLE READ one. Pass ``db.engine``: a streamed body outlives the request's context."""
    options = {"snapshot_read": True}
    if engine.dialect.name == "postgresql":
        options.update(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


INT_RANGE = range(-2**31, 2**31)  # Integer primary keys: an id outside can name nothing


def get_or_404(model, ident):
    if isinstance(ident, int) and ident not in INT_RANGE:
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj

