"""Configuration: defaults that make `make run` work alone, overridable from FLASK_* variables."""

import os


def database_url_from_environment():
    """Return DATABASE_URL adapted to the psycopg 3 driver, or None when unset."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    """Settings shared by every environment.

    Each one can be overridden by an environment variable with Flask's prefix,
    e.g. ``FLASK_TIMEZONE=Europe/Stockholm`` or ``FLASK_SMTP_PORT=587``.
    """

    # No default: a production start refuses to run without a real key.
    SECRET_KEY = None
    # None means "SQLite in the instance folder"; the factory fills it in.
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    TIMEZONE = "Europe/Helsinki"
    BABEL_DEFAULT_LOCALE = "fi"
    BABEL_DEFAULT_TIMEZONE = "Europe/Helsinki"
    LANGUAGES = ("fi", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # None: Secure exactly when PUBLIC_BASE_URL is https:// (core/security.py).
    SESSION_COOKIE_SECURE = None
    WTF_CSRF_TIME_LIMIT = None  # a form left open over lunch still posts
    # Pages send no Referer (Referrer-Policy: no-referrer, so secrets in URLs
    # never leak), so Flask-WTF must not demand one over HTTPS; the token and
    # the SameSite cookie do the work.
    WTF_CSRF_SSL_STRICT = False
    # A signed-in session lasts a working day from the last request.
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    # The largest request body read (bytes): no form or JSON body of the app comes
    # near a mebibyte, and a larger one is refused with 413 before it is parsed.
    # Werkzeug's own limits stay for forms: MAX_FORM_MEMORY_SIZE (500 kB of one
    # field) and MAX_FORM_PARTS (1,000 fields).
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Signing in: failed attempts allowed per address and per account (counted
    # in the storage of RATELIMIT_STORAGE_URI: "memory://" is per process; use
    # "redis://127.0.0.1:6379" when several processes serve), and after how
    # many failures in a row an account pauses for how long.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # With the limits' storage (Redis) down, serve uncounted and log, rather than
    # answer every sign-in, API call and feed with 500; the account pause after
    # failed sign-ins in a row lives in the database and still holds.
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_LIMIT_PER_ADDRESS = "30 per 10 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "10 per 10 minutes"
    LOGIN_LOCKOUT_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    # Guessing secrets: wrong bearer tokens, and feed URLs whose secret no feed
    # ever had, allowed per address (in the same storage). Only failures count:
    # a right token, or a calendar fetching its feed, never meets the limit.
    BEARER_LIMIT_PER_ADDRESS = "30 per 10 minutes"
    FEED_LIMIT_PER_ADDRESS = "30 per 10 minutes"
    # Roles that sign in with a second factor (a TOTP code) after the password;
    # anyone may set it up on their account page. From the environment as JSON
    # or comma-separated: FLASK_TWO_FACTOR_REQUIRED_ROLES='["admin", "coordinator"]'.
    TWO_FACTOR_REQUIRED_ROLES = ("admin",)
    # Proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust
    # (0: none): the client's address is what sign-in limits count by.
    TRUSTED_PROXIES = 0

    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    # Home visits: travel between municipalities is allowed for from the
    # distance between their centroids; working hours apply to workers who
    # have not set their own ("1-5 08:00-16:00" is Monday to Friday).
    TRAVEL_MINUTES_PER_KM = 1.2
    TRAVEL_MINIMUM_MINUTES = 15
    DEFAULT_WORKING_HOURS = "1-5 08:00-16:00"
    FREE_SLOT_STEP_MINUTES = 15
    FAMILIES_PER_PAGE = 25

    # Reminders (used by the reminders package).
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 25
    SMTP_STARTTLS = False
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    MAIL_FROM = "perhetyo@example.invalid"
    SMS_GATEWAY_URL = None
    SMS_GATEWAY_API_KEY = None
    REMINDER_CHANNEL_EMAIL = "log"
    REMINDER_CHANNEL_SMS = "log"
    # Start the dispatcher inside `flask run` (for `make run`); production runs
    # `flask scheduler run` as a process of its own.
    SCHEDULER_ENABLED = False
    # The dispatcher: how often it looks for due reminders and plans the
    # horizon (seconds), rows per claimed batch, attempts before a message
    # fails, the first retry delay (doubling up to the cap), and how old a
    # claim must be before it counts as left by a dispatcher that died.
    REMINDER_DISPATCH_INTERVAL = 30
    REMINDER_PLANNING_INTERVAL = 3600
    REMINDER_BATCH_SIZE = 50
    REMINDER_MAX_ATTEMPTS = 5
    # An SMS reminder is kept to one segment where its facts fit, and never
    # takes more than this many (reminders.messages).
    SMS_MAX_SEGMENTS = 2
    REMINDER_RETRY_SECONDS = 60
    REMINDER_RETRY_MAX_SECONDS = 3600
    REMINDER_CLAIM_TIMEOUT = 900

    # Calendar feeds: how often subscribers are asked to refresh (seconds), the
    # window of events they carry, a cap, how long a cancelled event stays in
    # them, and whether an admin allows feeds with surnames and addresses.
    FEED_REFRESH_INTERVAL = 3600
    FEED_WINDOW_PAST_DAYS = 60
    FEED_WINDOW_FUTURE_DAYS = 365
    FEED_MAX_EVENTS = 20000
    FEED_CANCELLED_RETENTION_DAYS = 14
    FEED_DETAILED_ALLOWED = False

    # Compression (Flask-Compress): HTML and JSON gzip-encoded when the client takes
    # it. Not the feeds (text/calendar), which carry their own gzip variant and
    # ETag; not streamed files (report exports, static files, whose ranges and
    # validators are the file's).
    COMPRESS_ALGORITHM = "gzip"
    COMPRESS_MIMETYPES = ["text/html", "application/json"]
    COMPRESS_STREAMS = False


class TestConfig(Config):
    """Settings for the test suite: a throwaway key, CSRF on as in production.

    Tests read messages in English, the language of the source; the Finnish
    default has tests of its own.
    """

    TESTING = True
    BABEL_DEFAULT_LOCALE = "en"
    SECRET_KEY = "test-secret-key-not-for-production"
    WTF_CSRF_ENABLED = True
    SERVER_NAME = None



def settings(config_class, **overrides) -> dict:
    """A config class's settings as a dict with overrides, for ``create_app``."""
    values = {key: getattr(config_class, key) for key in dir(config_class) if key.isupper()}
    return {**values, **overrides}
