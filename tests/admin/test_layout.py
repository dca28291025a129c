"""The admin's pages are the admin package's: each page only admins open is
served by it, and it serves nothing else."""

from tests.test_authorization_matrix import ADMIN_ONLY, EXPECTED


def _module_of(app, endpoint) -> str:
    return app.view_functions[endpoint].__module__


def test_every_page_only_admins_open_is_in_the_admin_package(app):
    pages = [endpoint for endpoint, expected in EXPECTED.items()
             if expected == ADMIN_ONLY and "_api." not in endpoint]
    assert pages, "the authorization matrix names no admin page"
    assert [endpoint for endpoint in pages
            if not _module_of(app, endpoint).startswith("admin.")] == []


def test_the_admin_package_serves_only_admin_pages(app):
    served = [rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint != "static"
              and _module_of(app, rule.endpoint).startswith("admin.")]
    assert {"policies.matching_policy", "policies.reminder_policy",
            "admin.retention"} <= set(served)
    assert [endpoint for endpoint in served if EXPECTED[endpoint] != ADMIN_ONLY] == []
