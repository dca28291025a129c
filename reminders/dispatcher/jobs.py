"""APScheduler wiring: the dispatcher's interval jobs.

As APScheduler's FAQ advises, a job store is not shared between processes,
so the scheduler runs in a process of its own (`flask --app app scheduler
run`), or, for `make run`, inside the development server when
SCHEDULER_ENABLED is set. Running several is safe: the database decides who
sends what (see ``reminders.dispatcher``). The jobs are module-level
functions that open an app context and call the services.
"""

import logging
from datetime import UTC, datetime

from flask import current_app

from core.clock import get_clock
from core.localtime import unit_zone
from extensions import db, scheduler
from reminders import dispatcher, services
from reminders.channels import channels_from_config

logger = logging.getLogger("reminders")

DISPATCH_JOB = "reminders-dispatch"
PLANNING_JOB = "reminders-plan-horizon"


def run_dispatch_pass() -> dispatcher.PassResult:
    """One pass of the dispatcher in the current app, with its settings."""
    config = current_app.config
    return dispatcher.dispatch_pass(
        clock=get_clock(), channels=channels_from_config(config),
        settings=dispatcher.DispatchSettings.from_config(config), zone=unit_zone())


def run_planning() -> int:
    """Plan the reminders of every event within the horizon, and commit."""
    looked_at = services.plan_horizon(now=get_clock().now(), zone=unit_zone())
    db.session.commit()
    return looked_at


def dispatch_job(app) -> None:
    """The interval job: one dispatcher pass."""
    with app.app_context():
        try:
            result = run_dispatch_pass()
            if result.handled or result.reclaimed:
                logger.info("Reminders: %s", dispatcher.describe(result))
        finally:
            db.session.remove()


def planning_job(app) -> None:
    """The interval job: plan the events coming within the horizon."""
    with app.app_context():
        try:
            run_planning()
        finally:
            db.session.remove()


def log_to_stderr() -> None:
    """Show the reminders log (and so the log channel's messages) on standard error.

    Python's logging shows only warnings unless told otherwise; a dispatcher
    process is where these lines are wanted.
    """
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def add_to(background, app) -> None:
    """Add the dispatcher's and the planning's interval jobs to a scheduler.

    APScheduler runs jobs by the real clock; the first run of each is at once.
    A channel set up wrongly fails here, at the start, not in the first job.
    """
    config = app.config
    log_to_stderr()
    channels_from_config(config)
    background.add_job(dispatch_job, "interval", args=[app], id=DISPATCH_JOB,
                       seconds=int(config["REMINDER_DISPATCH_INTERVAL"]),
                       max_instances=1, coalesce=True, replace_existing=True,
                       next_run_time=datetime.now(UTC))
    background.add_job(planning_job, "interval", args=[app], id=PLANNING_JOB,
                       seconds=int(config["REMINDER_PLANNING_INTERVAL"]),
                       max_instances=1, coalesce=True, replace_existing=True,
                       next_run_time=datetime.now(UTC))


# Where ``create_app`` hands the scheduler its job list: the functions that add
# each package's jobs to a scheduler, ``add_to(background, app)``.
SCHEDULED_JOBS = "scheduled_jobs"


def start(app, background=scheduler) -> None:
    """Add the jobs ``create_app`` listed to the scheduler and start it (once per
    process)."""
    for add_to_scheduler in app.extensions[SCHEDULED_JOBS]:
        add_to_scheduler(background, app)
    if not background.running:
        background.start()
