"""The Flask extensions, created unbound here and initialised in the factory."""

from apscheduler.schedulers.background import BackgroundScheduler
from flask import request
from flask_babel import Babel
from flask_compress import Compress as _Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from core.base import Base


class Compress(_Compress):
    """Flask-Compress, but never gzip for a client that refuses it: its own choice
    (1.25) takes ``gzip;q=0`` for a preference, where q=0 means "not acceptable"
    (RFC 9110, 12.4.2). Only gzip is configured, so gzip is all there is to check."""

    def after_request(self, response):
        if request.accept_encodings["gzip"] <= 0:
            response.vary.add("Accept-Encoding")
            return response
        return super().after_request(response)

db = SQLAlchemy(model_class=Base)
# Batch mode lets Alembic alter tables on SQLite, which has no ALTER COLUMN.
migrate = Migrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
# Limits only where a route asks for one (sign-in); storage from
# RATELIMIT_STORAGE_URI: memory by default, Redis when several processes serve.
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
# Pages and JSON gzip-encoded for clients that take it (COMPRESS_* settings); the
# feeds encode their own, once per answer (calendars.feeds.serving).
compress = Compress()
# Started only by `flask scheduler run` or when SCHEDULER_ENABLED is set: a job
# store is not shared between processes, so web workers never run it by default.
scheduler = BackgroundScheduler(timezone="UTC")
