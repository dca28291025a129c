"""Reminders: the outbox, opt-out tokens and policies

Revision ID: bbad87c026f3
Revises: b5c3e1f2a7d9
Create Date: 2026-11-29 02:05:05.127943

"""
from alembic import op
import sqlalchemy as sa

import core.base


# revision identifiers, used by Alembic.
revision = 'bbad87c026f3'
down_revision = 'b5c3e1f2a7d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reminder_policies',
    sa.Column('event_kind', sa.String(length=20), nullable=False),
    sa.Column('lead_hours', sa.JSON(), nullable=False),
    sa.Column('updated_at', core.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("event_kind IN ('planning_meeting', 'home_visit', 'review_meeting', 'group_session')", name=op.f('ck_reminder_policies_event_kind')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_reminder_policies_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('event_kind', name=op.f('pk_reminder_policies'))
    )
    op.create_table('reminder_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiet_start', sa.Time(), nullable=False),
    sa.Column('quiet_end', sa.Time(), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', core.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('horizon_days BETWEEN 1 AND 365', name=op.f('ck_reminder_settings_horizon_days')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_reminder_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_settings'))
    )
    op.create_table('reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('event_type', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('event_sequence', sa.Integer(), nullable=False),
    sa.Column('event_start', core.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('lead_minutes', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('send_at', core.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('cancel_reason', sa.String(length=20), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_at', core.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', core.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('provider_message_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', core.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f('ck_reminders_channel')),
    sa.CheckConstraint("event_type IN ('home_visit', 'group_session')", name=op.f('ck_reminders_event_type')),
    sa.CheckConstraint("purpose IN ('reminder', 'change', 'cancellation')", name=op.f('ck_reminders_purpose')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')", name=op.f('ck_reminders_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_reminders_attempts')),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_reminders_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_reminders_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_reminders_idempotency_key'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index('ix_reminders_event', ['event_type', 'event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_reminders_status_send_at', ['status', 'send_at'], unique=False)

    op.create_table('reminder_opt_out_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('reminder_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', core.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', core.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_reminder_opt_out_tokens_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reminder_id'], ['reminders.id'], name=op.f('fk_reminder_opt_out_tokens_reminder_id_reminders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_opt_out_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_reminder_opt_out_tokens_token_hash'))
    )
    with op.batch_alter_table('reminder_opt_out_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_opt_out_tokens_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_opt_out_tokens_reminder_id'), ['reminder_id'], unique=False)



def downgrade():
    with op.batch_alter_table('reminder_opt_out_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_opt_out_tokens_reminder_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_opt_out_tokens_member_id'))

    op.drop_table('reminder_opt_out_tokens')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index('ix_reminders_status_send_at')
        batch_op.drop_index(batch_op.f('ix_reminders_member_id'))
        batch_op.drop_index(batch_op.f('ix_reminders_family_id'))
        batch_op.drop_index('ix_reminders_event')

    op.drop_table('reminders')
    op.drop_table('reminder_settings')
    op.drop_table('reminder_policies')
