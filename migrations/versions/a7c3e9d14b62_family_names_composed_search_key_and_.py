"""Family names in one Unicode form, a surname search key, address non-disclosure

Every text field of families, members and plans is rewritten in Unicode's
composed form (NFC); each family gets its surname's search key (composed and
case folded, as core.text.search_key makes it) and the flag of an address
under non-disclosure (turvakielto), off.

Revision ID: a7c3e9d14b62
Revises: a7c3e91d2b64
Create Date: 2026-12-03 13:50:00.000000

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e9d14b62'
down_revision = 'a7c3e91d2b64'
branch_labels = None
depends_on = None

# The text fields of each table, as the models keep them composed.
TEXT_FIELDS = {
    "families": ("reference", "surname", "address"),
    "members": ("first_name", "phone", "email"),
    "plans": ("content", "agreed_with"),
}


def _nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _search_key(value):
    # A copy of core.text.search_key as it is at this revision.
    return unicodedata.normalize("NFC", _nfc(value or "").strip().casefold())


# SQLite: the columns are added in place. Copying the table instead (batch
# mode's "recreate") would drop the old one, and with foreign keys enforced
# that deletes every member, plan and visit of every family by cascade.


def upgrade():
    with op.batch_alter_table('families', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('surname_key', sa.String(length=300),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('address_non_disclosure', sa.Boolean(),
                                      nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_families_surname_key'), ['surname_key'],
                              unique=False)

    connection = op.get_bind()
    for table_name, fields in TEXT_FIELDS.items():
        table = sa.table(table_name, sa.column('id', sa.Integer),
                         *(sa.column(name, sa.String) for name in fields),
                         *([sa.column('surname_key', sa.String)]
                           if table_name == 'families' else []))
        rows = connection.execute(sa.select(table.c.id, *(table.c[name] for name in fields)))
        for row in rows.all():
            values = {name: _nfc(row._mapping[name]) for name in fields}
            if table_name == 'families':
                values['surname_key'] = _search_key(values['surname'])
            changed = {name: value for name, value in values.items()
                       if name == 'surname_key' or value != row._mapping[name]}
            if changed:
                connection.execute(
                    table.update().where(table.c.id == row.id).values(**changed))


def downgrade():
    with op.batch_alter_table('families', schema=None, recreate='never') as batch_op:
        batch_op.drop_index(batch_op.f('ix_families_surname_key'))
        batch_op.drop_column('address_non_disclosure')
        batch_op.drop_column('surname_key')
