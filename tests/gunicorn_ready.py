"""A gunicorn configuration for tests: each worker, once it has loaded the app,
leaves a file named by its pid in $PERHETYO_READY_DIR, so that a test can wait
until every worker takes requests (`tests.servers.gunicorn_app`)."""

import os
from pathlib import Path


def post_worker_init(worker):
    Path(os.environ["PERHETYO_READY_DIR"], str(worker.pid)).touch()
