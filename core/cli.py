"""Commands every installation needs (building the database), and the ``--now``
option of the commands that act at an instant."""

import click
from flask import current_app
from flask_migrate import upgrade

from core.clock import FixedClock, set_clock
from core.localtime import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    NonexistentLocalTime,
    parse_instant,
    plausible_day,
)
from core.places import ensure_reference_data
from extensions import db

now_option = click.option("--now", default=None,
                          help="Act as if it were this instant (ISO 8601).")


def fix_clock(now: str | None) -> None:
    """Stop the app's clock at ``--now`` when it is given."""
    if now:
        try:
            instant = parse_instant(now)
        except NonexistentLocalTime as error:
            raise click.BadParameter(f"{error}: the clocks go forward then",
                                     param_hint="--now") from None
        except (ValueError, OverflowError):
            instant = None
        if instant is None or not plausible_day(instant):
            raise click.BadParameter("expected an ISO 8601 date-time such as"
                                     f" 2026-12-01T08:00:00+02:00 in the years"
                                     f" {EARLIEST_YEAR}-{LATEST_YEAR}", param_hint="--now")
        set_clock(current_app, FixedClock(instant))


@click.command("init-db")
def init_db():
    """Apply the migrations and create the reference data that is missing."""
    upgrade()
    created = ensure_reference_data()
    db.session.commit()
    click.echo(f"Database is up to date; {created} municipalities added.")
