"""`flask --app app families anonymise [--now ISO] [--dry-run]`."""

import click

from casework import jobs
from core.cli import fix_clock, now_option


@click.group("families")
def families():
    """Families: data protection."""


@families.command("anonymise")
@now_option
@click.option("--dry-run", is_flag=True, help="Only list the families that are due.")
def anonymise(now, dry_run):
    """Remove the identity of families closed longer than the retention period."""
    fix_clock(now)
    ids = jobs.run_anonymisation(dry_run=dry_run)
    verb = "Would anonymise" if dry_run else "Anonymised"
    click.echo(f"{verb} {len(ids)} families" + (f": {', '.join(map(str, ids))}" if ids
                                                 else "") + ".")
