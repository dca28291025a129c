"""`flask --app app seed-demo`: deterministic, realistic demo data for the region."""

import click


@click.command("seed-demo")
def seed_demo():
    """Fill an empty database with the demo region's staff and families."""
