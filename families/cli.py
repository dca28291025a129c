"""`flask --app app families anonymise [--now ISO] [--dry-run]`."""

import click
from flask import current_app

from core.clock import FixedClock, set_clock
from core.localtime import parse_instant
from families import jobs


@click.group("families")
def families():
    """Families: data protection."""


@families.command("anonymise")
@click.option("--now", default=None, help="Act as if it were this instant (ISO 8601).")
@click.option("--dry-run", is_flag=True, help="Only list the families that are due.")
def anonymise(now, dry_run):
    """Remove the identity of families closed longer than the retention period."""
    if now:
        try:
            instant = parse_instant(now)
        except ValueError:
            raise click.BadParameter("expected an ISO 8601 date-time such as"
                                     " 2026-12-01T08:00:00+02:00", param_hint="--now") from None
        set_clock(current_app, FixedClock(instant))
    ids = jobs.run_anonymisation(dry_run=dry_run)
    verb = "Would anonymise" if dry_run else "Anonymised"
    click.echo(f"{verb} {len(ids)} families" + (f": {', '.join(map(str, ids))}" if ids
                                                 else "") + ".")
