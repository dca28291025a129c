"""The browser's fixtures: Debian's Chromium, the app on loopback, axe-core on every page.

One Chromium serves the whole run (in a parallel run, each worker that runs
browser tests: the worker of test_journeys.py) and one server each module: the suite's app
(and its database, SQLite or PostgreSQL) holding the demo region as of the
suite's "now", served by Werkzeug on 127.0.0.1 from a thread. Each test gets a
fresh browser context whose requests may not leave loopback, and a ``Visit``
that runs axe-core on every page the journey reaches, at a desktop width and
at a phone's 390 px, and keeps screenshots of the journey's last page.

Without Chromium, Playwright or axe-core (``npm ci`` in this folder) the tests
skip and say why; with ``REQUIRE_BROWSER=1`` (CI) they fail instead.
"""

import os
import random
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

import demo
from accounts.models import User
from core.clock import FixedClock, set_clock
from extensions import db
from tests.conftest import NOW, WORKER_SUMMARY, empty_tables, require

HERE = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("BROWSER_CHROMIUM", "/usr/bin/chromium"))
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# What fails a page: axe-core's two highest impacts.
BLOCKING_IMPACTS = {"serious", "critical"}
DEMO_PASSWORD = demo.PASSWORD


# --- the browser -----------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, started once for the run (for each worker
    that runs browser tests, in a parallel run)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("BROWSER", "Playwright for Python is not installed "
                           "(pip install -r requirements-dev.txt)")
    if not CHROMIUM.exists():
        require("BROWSER", f"Chromium is not installed at {CHROMIUM} "
                           "(apt-get install chromium)")
    if not AXE.exists():
        require("BROWSER", "axe-core is not installed (npm ci in tests/browser)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """The folder of this run's screenshots: $BROWSER_SCREENSHOTS, else a temporary one."""
    chosen = os.environ.get("BROWSER_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    SCREENSHOT_FOLDERS.append(folder)
    return folder


SCREENSHOT_FOLDERS: list[Path] = []


def _summary() -> list[str]:
    return [f"browser screenshots: {folder}" for folder in SCREENSHOT_FOLDERS
            if any(folder.iterdir())]


def pytest_terminal_summary(terminalreporter):
    """Say where the screenshots are, at the end of a run in one process."""
    for line in _summary():
        terminalreporter.write_line(line)


def pytest_sessionfinish(session):
    """In a parallel run's worker, hand the lines to the main process, which
    prints them (tests/conftest.py): a worker has no terminal of its own."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput.setdefault(WORKER_SUMMARY, []).extend(_summary())


# --- the server ------------------------------------------------------------

class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a log line per request."""

    def log_request(self, *args, **kwargs):
        pass


class Site:
    """The app served on loopback, and its data as the journeys need it."""

    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"

    def query(self, function):
        """Call ``function()`` in an app context of the served app and return its result."""
        with self.app.app_context():
            try:
                return function()
            finally:
                db.session.remove()


@pytest.fixture(scope="module")
def site(_app):
    """The app with the demo region as of NOW, served on 127.0.0.1 for one module.

    Staff read English, the language of the tests' words; the language
    journey turns its pages to Finnish itself.
    """
    set_clock(_app, FixedClock(NOW))
    with _app.app_context():
        empty_tables()
        demo.seed(NOW, random.Random(demo.SEED))
        db.session.execute(db.update(User).values(locale="en"))
        db.session.commit()
        db.session.remove()
    server = make_server("127.0.0.1", 0, _app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(_app, server)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        with _app.app_context():
            empty_tables()


# --- a journey -------------------------------------------------------------

class Visit:
    """One person's visit: a page in a fresh context, every page it reaches checked.

    Each arrival (``go``, ``submit``, ``follow``) waits for the page, then runs
    axe-core at the desktop width and at 390 px and fails on any serious or
    critical violation. Requests that leave loopback are refused and fail the
    test; so do server errors and script errors.
    """

    def __init__(self, site, context, name, screenshots):
        self.site = site
        self.context = context
        self.name = name
        self.screenshots = screenshots
        self.outside: list[str] = []
        self.server_errors: list[str] = []
        self.script_errors: list[str] = []
        self.loads = 0
        self.arrivals = 0
        self.finished = False
        self.axe_source = AXE.read_text(encoding="utf-8")
        context.route("**/*", self._keep_on_loopback)
        self.page = context.new_page()
        self.page.set_default_timeout(10_000)
        self.page.on("load", self._count_load)
        self.page.on("response", self._watch_response)
        self.page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    # hooks
    def _keep_on_loopback(self, route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def _count_load(self, _page):
        self.loads += 1

    def _watch_response(self, response):
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")

    # moving about
    def go(self, path):
        """Open a path of the site, as typed into the address bar."""
        self.page.goto(self.site.url + path)
        return self.arrive()

    def submit(self, locator):
        """Press a button or link that loads a new page, and check the page reached."""
        with self.page.expect_navigation():
            locator.click()
        return self.arrive()

    follow = submit

    def arrive(self):
        """Check the page just reached: loaded, on loopback, and accessible at both widths."""
        self.page.wait_for_load_state("load")
        assert not self.server_errors, self.server_errors
        self.arrivals += 1
        self.audit()
        return self.page

    def audit(self):
        """axe-core at the desktop width and at a phone's width."""
        for size in (DESKTOP, PHONE):
            self.resize(size)
            violations = self.axe()
            blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
            assert not blocking, (
                f"axe-core at {size['width']} px on {self.page.url}:\n"
                + describe(blocking))
        self.page.set_viewport_size(DESKTOP)

    def resize(self, size):
        """Set the window's size, and let the page's resize handlers and layout run."""
        self.page.set_viewport_size(size)
        self.page.evaluate("""() => new Promise(done =>
            requestAnimationFrame(() => requestAnimationFrame(done)))""")

    def axe(self):
        """axe-core's violations on the current page (injected through the DevTools
        protocol, so that no script of the test's own appears in the page's source)."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(self.axe_source)
        return self.page.evaluate("""async () => {
            const result = await window.axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          summary: n.failureSummary}))}));
        }""")

    def tab_to(self, name):
        """Press Tab until the link or button named ``name`` has the focus, and
        check that the focus shows; the focused element is returned."""
        for _ in range(80):
            self.page.keyboard.press("Tab")
            focused = self.page.evaluate("""() => {
                const element = document.activeElement;
                const style = getComputedStyle(element);
                return {text: element.innerText || element.value || '',
                        outline: style.outlineStyle, width: style.outlineWidth};
            }""")
            if name in focused["text"]:
                assert focused["outline"] != "none" and focused["width"] != "0px", (
                    f"the focus on {name!r} does not show: {focused}")
                return self.page.locator(":focus")
        raise AssertionError(f"{name!r} cannot be reached with the Tab key")

    def press(self, key):
        """Press a key that loads a new page (Enter on a focused link), and check it."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        return self.arrive()

    def login(self, email, password=DEMO_PASSWORD):
        """Sign in through the login page, as the journeys start."""
        page = self.go("/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        return self.submit(page.get_by_role("button", name="Sign in"))

    def finish(self):
        """The checks at the end of a journey, and the screenshots of its last page."""
        self.finished = True
        for size in (DESKTOP, PHONE):
            self.page.set_viewport_size(size)
            self.page.screenshot(path=self.screenshots / f"{self.name}-{size['width']}.png",
                                 full_page=True)
        self.page.set_viewport_size(DESKTOP)
        assert not self.outside, f"requests that left loopback: {self.outside}"
        assert not self.server_errors, self.server_errors
        assert not self.script_errors, self.script_errors
        # Load events come in before the replies to later commands (the screenshots).
        assert self.loads <= self.arrivals, "a page was reached without an axe-core check"


def describe(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['summary']}".replace("\n", " "))
    return "\n".join(lines)


@pytest.fixture
def visit(request, site, browser, screenshots):
    """A fresh browser context on the site, named after the test."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB",
                                  timezone_id="Europe/Helsinki")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    journey = Visit(site, context, name, screenshots)
    try:
        yield journey
        if not journey.finished:
            journey.finish()
    finally:
        context.close()
