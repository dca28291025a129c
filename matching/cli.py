"""`flask --app app matching propose`: a bulk proposal from the command line."""

from datetime import datetime

import click

from accounts.models import User
from core.clock import FixedClock, get_clock
from core.localtime import unit_zone
from core.roles import ADMIN
from extensions import db
from matching import services


@click.group("matching")
def matching():
    """Match waiting families to peer groups."""


@matching.command("propose")
@click.option("--municipality", "municipalities", multiple=True,
              help="Limit to a municipality; repeat for several. All by default.")
@click.option("--as", "email", default=None,
              help="The coordinator or admin the proposal is made by (the first admin"
                   " by default).")
@click.option("--now", "now_text", default=None, help="The instant to propose at (ISO).")
def propose(municipalities, email, now_text):
    """Compute and store a proposal; print its figures and id."""
    query = db.select(User).where(User.active.is_(True))
    query = query.where(User.email == email.lower()) if email else \
        query.where(User.role == ADMIN).order_by(User.id)
    actor = db.session.scalars(query).first()
    if actor is None or not services.can_propose(actor):
        raise click.ClickException("No active coordinator or admin to propose as.")
    now = get_clock().now()
    if now_text:
        try:
            parsed = datetime.fromisoformat(now_text)
        except ValueError:
            raise click.ClickException(f"Not an ISO date-time: {now_text}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=unit_zone())
        now = FixedClock(parsed).now()
    proposal = services.propose(actor, municipalities=municipalities, now=now,
                                zone=unit_zone())
    db.session.commit()
    placed = [item for item in proposal.items if item.group_id]
    left = [item for item in proposal.items if not item.group_id]
    click.echo(f"Proposal {proposal.id}: {len(placed)} families placed, {len(left)} left"
               f" without a place, total score {proposal.total_score_tenths / 10:.1f}.")
