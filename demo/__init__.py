"""`flask --app app seed-demo`: deterministic, realistic demo data for the region.

Staff, families (with members and plans), venues, blackout dates, peer
groups, working hours, absences and home visits for the six municipalities of
the Mikkeli region. Everything about families goes through
``families.services``, everything about groups through the groups package's
own modules (``services``, ``series``, ``enrollment``, ``attendance``) and
every visit through ``calendars.services`` and its clash check, so that the
rules of the work hold for the demo as they do for real data, and the audit
log gets the same entries.

The data is drawn from a ``random.Random`` with a fixed seed and placed in
time relative to the clock's local "today", so the demo always looks current
and the same ``--now`` always gives the same data.

Each module of the package does one job: ``staff`` (people and places),
``families``, ``groups`` (series, enrollment, attendance), ``visits`` (hours,
absences, home visits) and ``history`` (the clocks of the replayed past);
this one holds the command and runs them in order.
"""

import random
from collections import Counter
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from accounts.models import User
from core.clock import FixedClock, get_clock, set_clock
from core.localtime import local_datetime, local_today
from core.places import ensure_reference_data
from core.roles import ADMIN
from core.vocabulary import CHILD_PROTECTION, PREVENTIVE
from demo.families import draw_families, register_family
from demo.groups import FATHERS, GROUPS, create_groups, group_summary
from demo.staff import DEMO_EMAILS, PASSWORD, STAFF, create_blackouts, create_staff, create_venues
from demo.visits import create_visits, visit_summary
from extensions import db
from families.models import Family, Plan, TrackChange

# What tests, browser fixtures and benchmarks read from the package.
__all__ = ["DEMO_EMAILS", "FATHERS", "GROUPS", "PASSWORD", "SEED", "STAFF", "seed", "seed_demo"]

SEED = 5011  # any fixed number; changing it changes every family


# --- the command -----------------------------------------------------------

@click.command("seed-demo")
@click.option("--if-empty", is_flag=True,
              help="Do nothing (but list the demo logins) when the database has users.")
@click.option("--now", "now_text", default=None, metavar="ISO",
              help="Pretend it is this instant, e.g. 2026-11-30T10:00:00+02:00 "
                   "(without an offset: Helsinki time). The same --now gives the same data.")
@with_appcontext
def seed_demo(if_empty, now_text):
    """Fill an empty database with the demo region's staff and families."""
    if now_text:
        set_clock(current_app, FixedClock(_parse_now(now_text)))
    ensure_reference_data()
    db.session.flush()
    if _has_data():
        if if_empty:
            click.echo("The database already has data; demo data not added.")
            db.session.commit()  # keep any municipalities ensure_reference_data added
            _echo_logins()
            return
        raise click.ClickException(
            "The database already has users or families; seed-demo only fills an empty "
            "database. Use --if-empty to skip quietly, or start from a new database.")
    clock = get_clock()
    summary = seed(clock.now(), random.Random(SEED))
    db.session.commit()
    click.echo(summary)
    _echo_logins()


def _parse_now(text: str) -> datetime:
    """An ISO 8601 instant; without an offset it is the unit's local time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date-time: {text!r}",
                                 param_hint="--now") from None
    if value.tzinfo is None:
        return local_datetime(value.date(), value.time())
    return value


def _has_data() -> bool:
    """Whether anything a demo would collide with exists: users or families."""
    return (db.session.scalar(db.select(User.id).limit(1)) is not None
            or db.session.scalar(db.select(Family.id).limit(1)) is not None)


def _echo_logins() -> None:
    """The demo accounts that exist, as a table: role, name, e-mail, password."""
    users = {user.email: user for user in db.session.scalars(
        db.select(User).where(User.email.in_(DEMO_EMAILS)))}
    rows = [(user.role, user.name, user.email, PASSWORD)
            for user in (users.get(email) for email in DEMO_EMAILS) if user is not None]
    if not rows:
        return
    header = ("role", "name", "e-mail", "password")
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(4)]
    click.echo("\nDemo logins:")
    for row in (header, tuple("-" * width for width in widths), *rows):
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(("  " + "  ".join(cells)).rstrip())
    if any(row[0] == ADMIN for row in rows):
        click.echo("  The admin sets up two-factor sign-in (a code of an authenticator app)"
                   " at the first sign-in.")


# --- seeding ---------------------------------------------------------------

def seed(now: datetime, rng: random.Random) -> str:
    """Create the whole demo as of ``now``; return a short summary. Does not commit."""
    today = local_today(now)
    staff = create_staff(today, now)
    venues = create_venues()
    blackouts = create_blackouts(today)
    drafts = draw_families(rng, today)
    for draft in drafts:
        register_family(draft, staff, rng, today, now)
    db.session.flush()
    create_groups(staff, rng, today, now)
    create_visits(staff, rng, today, now)
    families = list(db.session.scalars(db.select(Family)))
    tracks = Counter(family.track for family in families)
    statuses = Counter(family.status for family in families)
    plans = db.session.scalar(db.select(db.func.count(Plan.id)))
    changes = db.session.scalar(db.select(db.func.count(TrackChange.id)))
    due = sum(1 for family in families if family.status == "active"
              and family.plan.review_date <= today + timedelta(days=30))
    return (
        f"Demo data as of {today.isoformat()}: {sum(len(v) for v in staff.values())} staff, "
        f"{len(families)} families ({tracks[CHILD_PROTECTION]} child protection, "
        f"{tracks[PREVENTIVE]} preventive; {statuses['referred']} referred, "
        f"{statuses['planning']} planning, {statuses['active']} active, "
        f"{statuses['closed']} closed), {plans} plans ({due} reviews due within 30 days), "
        f"{changes} track changes, {venues} venues, {blackouts} blackout dates, "
        f"{group_summary()}, {visit_summary(now)}.")
