"""Commands every installation needs: building the database."""

import click
from flask_migrate import upgrade

from core.places import ensure_reference_data
from extensions import db


@click.command("init-db")
def init_db():
    """Apply the migrations and create the reference data that is missing."""
    upgrade()
    created = ensure_reference_data()
    db.session.commit()
    click.echo(f"Database is up to date; {created} municipalities added.")
