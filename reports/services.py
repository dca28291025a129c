"""Figures for the dashboard: what needs the signed-in person's attention."""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from core.localtime import local_today
from extensions import db
from families.models import Family, Plan
from families.services import visible_families_query

REVIEW_HORIZON_DAYS = 30


@dataclass
class Dashboard:
    counts_by_status: dict[str, int]
    counts_by_track: dict[str, int]
    waiting_for_plan: list[Family]
    reviews_due: list[Family]


def dashboard(user, *, clock) -> Dashboard:
    """The user's families in figures, those waiting for a plan, reviews coming up."""
    visible = visible_families_query(user).subquery()
    by_status = dict(db.session.execute(
        sa.select(visible.c.status, sa.func.count()).group_by(visible.c.status)).all())
    by_track = dict(db.session.execute(
        sa.select(visible.c.track, sa.func.count()).group_by(visible.c.track)).all())
    waiting = db.session.scalars(
        visible_families_query(user).where(Family.status.in_(("referred", "planning")))
        .order_by(Family.referral_date).limit(10))
    today = local_today(clock.now())
    due = db.session.scalars(
        visible_families_query(user).join(Family.plan)
        .where(Family.status == "active",
               Plan.review_date <= today + timedelta(days=REVIEW_HORIZON_DAYS))
        .order_by(Plan.review_date).limit(10))
    return Dashboard(by_status, by_track, list(waiting), list(due))
