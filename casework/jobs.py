"""The scheduler's daily job: anonymise the families whose retention period has passed."""

import logging

from casework import privacy
from core.clock import get_clock
from extensions import db

logger = logging.getLogger("families")

ANONYMISATION_JOB = "families-anonymise"


def run_anonymisation(*, dry_run=False) -> list[int]:
    """Anonymise the families due now (by the app's clock) and commit."""
    ids = privacy.anonymise_due(now=get_clock().now(), dry_run=dry_run)
    db.session.commit()
    return ids


def anonymisation_job(app) -> None:
    """The interval job: one anonymisation pass in the job's own app context."""
    with app.app_context():
        try:
            ids = run_anonymisation()
            if ids:
                logger.info("Anonymised %d closed families.", len(ids))
        finally:
            db.session.remove()


def add_to(background, app) -> None:
    """Add the daily job to a scheduler; its first run is a day after the start."""
    background.add_job(anonymisation_job, "interval", args=[app], id=ANONYMISATION_JOB,
                       days=1, max_instances=1, coalesce=True, replace_existing=True)
