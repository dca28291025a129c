"""`flask --app app reminders ...` and `flask --app app scheduler run`."""

import signal
import threading

import click
from flask import current_app

from core.cli import fix_clock, now_option
from extensions import scheduler as background
from reminders import dispatcher
from reminders.dispatcher import jobs


@click.group("reminders")
def reminders():
    """Reminders to families: the outbox and its dispatcher."""


@reminders.command("dispatch")
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@now_option
def dispatch(once, now):
    """Send the reminders that are due (one pass with --once)."""
    if not once:
        raise click.UsageError("Give --once for one pass; `flask --app app scheduler run`"
                               " dispatches continuously.")
    fix_clock(now)
    jobs.log_to_stderr()
    try:
        result = jobs.run_dispatch_pass()
    except ValueError as error:  # a channel set up wrongly
        raise click.ClickException(str(error)) from None
    click.echo(dispatcher.describe(result))


@reminders.command("plan")
@now_option
def plan(now):
    """Plan the reminders of every event within the horizon."""
    fix_clock(now)
    looked_at = jobs.run_planning()
    click.echo(f"Planned the reminders of {looked_at} events.")


@click.group("scheduler")
def scheduler():
    """The background scheduler."""


@scheduler.command("run")
def run():
    """Run the jobs listed in ``create_app`` (the dispatcher, the planning, the daily
    anonymisation) until stopped (SIGINT or SIGTERM)."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stopping.set())
    try:
        jobs.start(current_app._get_current_object())
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo("Scheduler running; stop it with Ctrl-C or SIGTERM.")
    while not stopping.wait(1):
        pass
    background.shutdown(wait=True)
    click.echo("Scheduler stopped.")
