"""The clock every "now" comes from, so that tests and CLI commands can set it."""

from datetime import UTC, datetime

from flask import current_app


class Clock:
    """The real clock: the current instant in UTC."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware in UTC."""
        return datetime.now(UTC)


class FixedClock(Clock):
    """A clock stopped at one instant; tests and `--now` options use it."""

    def __init__(self, instant: datetime):
        if instant.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware instant")
        self.instant = instant.astimezone(UTC)

    def now(self) -> datetime:
        return self.instant


def init_app(app):
    """Give the app the real clock unless one was already set."""
    app.extensions.setdefault("clock", Clock())


def get_clock() -> Clock:
    """The clock of the current app, to pass down to services."""
    return current_app.extensions["clock"]


def set_clock(app, clock: Clock) -> None:
    """Replace the app's clock (tests, `--now`)."""
    app.extensions["clock"] = clock
