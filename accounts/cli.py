"""`flask --app app users create|token`: staff accounts from the command line."""

import sys

import click

from accounts import services
from core.clock import get_clock
from core.errors import DomainError
from core.input_checks import text_problem
from core.roles import ROLES
from extensions import db


@click.group("users")
def users():
    """Manage staff accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--name", default=None, help="Full name; defaults to the e-mail's local part.")
@click.option("--municipality", "municipalities", multiple=True,
              help="A municipality the user works in; repeat for several.")
@click.option("--password", default=None,
              help="The password; read from standard input when not given.")
def create(email, role, name, municipalities, password):
    """Create a user with a role."""
    for hint, value in (("EMAIL", email), ("--name", name)):
        problem = text_problem((value or "").strip())
        if problem:
            raise click.BadParameter(problem, param_hint=hint)
    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
    try:
        user = services.create_user(email=email, name=name, role=role, password=password,
                                    municipalities=municipalities, clock=get_clock())
    except DomainError as error:
        details = "; ".join(f"{key}: {text}" for key, text in error.fields.items())
        raise click.ClickException(f"{error.message} {details}".strip()) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).", err=True)


@users.command("token")
@click.argument("email")
def token(email):
    """Print a new personal API token, alone on standard output."""
    user = services.user_by_email(email)
    if user is None or not user.active:
        raise click.ClickException(f"No active user {email}.")
    secret = services.issue_api_token(user, clock=get_clock())
    db.session.commit()
    click.echo(secret)
