from tests.conftest import login, make_family


def test_login_reaches_dashboard(client, coordinator):
    login(client, coordinator)
    assert client.get("/").status_code == 200


def test_family_created(app, coordinator):
    family = make_family(coordinator, plan=True)
    assert family.reference.startswith("PT-2026-")
    assert family.status == "active"
