"""The matching policy an admin sets, and stored proposals."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import vocabulary
from extensions import db

# The codes of core.vocabulary, by the names the package has always given them.
PROPOSAL_STATUSES = vocabulary.PROPOSAL_STATUSES.codes
ITEM_STATUSES = vocabulary.PROPOSAL_ITEM_STATUSES.codes


class MatchingPolicy(db.Model):
    """The weights of the score and the limits of eligibility (one row)."""

    __tablename__ = "matching_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    goals: Mapped[float] = mapped_column(default=35)
    distance: Mapped[float] = mapped_column(default=15)
    age: Mapped[float] = mapped_column(default=20)
    timing: Mapped[float] = mapped_column(default=15)
    waiting: Mapped[float] = mapped_column(default=15)
    max_clash_share: Mapped[float] = mapped_column(default=0.2)
    waiting_full_days: Mapped[int] = mapped_column(default=180)
    distance_zero_km: Mapped[float] = mapped_column(default=80)
    updated_at: Mapped[datetime | None]


class Proposal(db.Model):
    """A bulk assignment as it was computed, waiting for a coordinator's review."""

    __tablename__ = "matching_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    # The municipalities the proposal covers (names); empty for all.
    municipalities: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The groups that had free seats when it was computed.
    group_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    total_score_tenths: Mapped[int] = mapped_column(default=0)
    # A digest of everything the proposal was computed from: when it no
    # longer matches, the proposal is stale and is computed again.
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None]

    items: Mapped[list["ProposalItem"]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan",
        order_by="(ProposalItem.group_id, ProposalItem.score_tenths.desc(),"
                 " ProposalItem.family_id)")

    __table_args__ = (
        sa.CheckConstraint(vocabulary.PROPOSAL_STATUSES.check("status"), name="status"),
    )


class ProposalItem(db.Model):
    """One family in a proposal: the group proposed, or why none was."""

    __tablename__ = "matching_proposal_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        sa.ForeignKey("matching_proposals.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int] = mapped_column(sa.ForeignKey("families.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("peer_groups.id", ondelete="CASCADE"))
    score_tenths: Mapped[int] = mapped_column(default=0)
    # The criteria with their points, or the reason the family was left out.
    explanation: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    member_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(20), default="proposed")
    enrollment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrollments.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(sa.String(300), default="")

    proposal: Mapped[Proposal] = relationship(back_populates="items")

    __table_args__ = (
        sa.CheckConstraint(vocabulary.PROPOSAL_ITEM_STATUSES.check("status"),
                           name="status"),
    )
