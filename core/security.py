"""Headers that every response carries, pages, API, feeds and errors alike.

The pages load scripts and styles only from the app's own static folder, so
the Content-Security-Policy allows nothing inline and nothing from elsewhere:
an injected `<script>` would not run even if escaping failed somewhere. No
page may be framed (clickjacking), and no Referer leaves the app, so the
secrets in feed and opt-out URLs never reach another site.
"""

from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Browsers remember this for a year, so it is sent only where the app is
# served over HTTPS (PUBLIC_BASE_URL), never for a local http://127.0.0.1.
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


def init_app(app) -> None:
    """Add the headers to every response, and make the session cookie Secure when
    the app is served over HTTPS unless a setting says otherwise."""
    https = str(app.config.get("PUBLIC_BASE_URL", "")).startswith("https://")
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = https
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    headers = dict(HEADERS)
    if https:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
    # For what answers before the app does (calendars.feeds.serving).
    app.extensions["security_headers"] = headers

    @app.after_request
    def add_security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def trust_proxies(app) -> None:
    """Trust the forwarded headers of as many proxies as TRUSTED_PROXIES says.

    The outermost layer, put on last: every layer inside it (the feeds' server
    as much as Flask) sees the client's address, which limits count by.
    """
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies)
