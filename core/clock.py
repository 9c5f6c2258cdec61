"""The platform's one clock: timezone-aware UTC, shown in Asia/Shanghai.

Tests inside one process move time with time-machine. Tests that span processes (worker, server,
browser) write an offset in seconds to the file named by TESTING_CLOCK_FILE; only a testing
configuration reads it, and create_app refuses to start a non-testing app that names one.
"""
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_offset_file: str | None = None


def use_offset_file(path: str | None) -> None:
    global _offset_file
    _offset_file = path or None


def _offset() -> timedelta:
    if not _offset_file:
        return timedelta(0)
    try:
        with open(_offset_file) as f:
            return timedelta(seconds=float(f.read().strip() or 0))
    except FileNotFoundError:
        return timedelta(0)


def now() -> datetime:
    return datetime.now(timezone.utc) + _offset()


def local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def today_local():
    return local(now()).date()


def set_test_offset(path: str | os.PathLike, seconds: float) -> None:
    """Used by tests only: move every process that reads ``path``."""
    with open(path, "w") as f:
        f.write(str(seconds))
