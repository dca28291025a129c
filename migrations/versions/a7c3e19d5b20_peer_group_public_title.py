"""Peer groups: a public title, the only name that leaves the system

An existing group's title is its name where the name holds none of the words
that must not leave the system (core.wording), else empty: feeds and
reminders then call it a group meeting.

Revision ID: a7c3e19d5b20
Revises: f4539a4b2119
Create Date: 2026-12-03 13:55:00.000000

"""
import sqlalchemy as sa
from alembic import op

from core.wording import may_leave

# revision identifiers, used by Alembic.
revision = 'a7c3e19d5b20'
down_revision = 'f4539a4b2119'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('peer_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_title', sa.String(length=120),
                                      server_default='', nullable=False))
    connection = op.get_bind()
    groups = sa.table('peer_groups', sa.column('id', sa.Integer),
                      sa.column('name', sa.String), sa.column('public_title', sa.String))
    for group_id, name in connection.execute(sa.select(groups.c.id, groups.c.name)).all():
        title = (name or '').strip()
        if title and may_leave(title):
            connection.execute(groups.update().where(groups.c.id == group_id)
                               .values(public_title=title))


def downgrade():
    with op.batch_alter_table('peer_groups', schema=None) as batch_op:
        batch_op.drop_column('public_title')
