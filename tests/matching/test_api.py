"""Matching over JSON and the `flask matching propose` command."""

from datetime import date

import pytest

from extensions import db
from matching.models import Proposal
from tests.conftest import bearer, make_family, make_group, make_user

TODDLERS = [{"role": "guardian", "first_name": "Anna"},
            {"role": "child", "first_name": "Eeli", "birth_date": date(2025, 1, 10)}]


def test_group_matches_of_a_family(client, coordinator):
    group = make_group(coordinator, max_age_months=36)
    family = make_family(coordinator, members=TODDLERS, plan=True)
    matches = client.get(f"/api/v1/families/{family.id}/group-matches",
                         headers=bearer(coordinator)).get_json()
    assert matches[0]["group_id"] == group.id and matches[0]["eligible"]
    assert {c["criterion"] for c in matches[0]["criteria"]} == {
        "goals", "distance", "age", "timing", "waiting"}
    assert all({"points", "max", "text"} <= set(c) for c in matches[0]["criteria"])


def test_family_matches_of_a_group(client, coordinator, family_worker):
    group = make_group(coordinator, max_age_months=36)
    family = make_family(coordinator, members=TODDLERS, plan=True)
    matches = client.get(f"/api/v1/groups/{group.id}/family-matches",
                         headers=bearer(coordinator)).get_json()
    assert [m["family_id"] for m in matches] == [family.id]
    assert client.get(f"/api/v1/groups/{group.id}/family-matches",
                      headers=bearer(family_worker)).status_code == 403


def test_propose_review_and_accept(client, coordinator):
    make_group(coordinator, capacity=1, max_age_months=36)
    families = [make_family(coordinator, members=TODDLERS, plan=True) for _ in range(2)]
    headers = bearer(coordinator)
    created = client.post("/api/v1/matching/proposals", headers=headers, json={})
    assert created.status_code == 201
    proposal = created.get_json()
    assert proposal["current"] is True
    placed = [item for item in proposal["items"] if item["group_id"]]
    left = [item for item in proposal["items"] if not item["group_id"]]
    assert len(placed) == 1 and len(left) == 1
    assert left[0]["reason"] == "groups_full" and left[0]["text"]

    accepted = client.post(f"/api/v1/matching/proposals/{proposal['id']}/accept",
                           headers=headers, json={})
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "accepted"
    again = client.post(f"/api/v1/matching/proposals/{proposal['id']}/accept",
                        headers=headers, json={})
    assert again.status_code == 422
    assert {f.id for f in families} >= {placed[0]["family_id"]}


def test_accepting_a_stale_proposal_answers_409_with_the_new_one(client, coordinator):
    group = make_group(coordinator, capacity=2, max_age_months=36)
    make_family(coordinator, members=TODDLERS, plan=True)
    headers = bearer(coordinator)
    proposal = client.post("/api/v1/matching/proposals", headers=headers, json={}).get_json()
    client.patch(f"/api/v1/groups/{group.id}", headers=headers, json={"capacity": 3})

    response = client.post(f"/api/v1/matching/proposals/{proposal['id']}/accept",
                           headers=headers, json={})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "proposal_stale"
    new_id = error["details"][0]["new_proposal_id"]
    assert client.get(f"/api/v1/matching/proposals/{new_id}",
                      headers=headers).get_json()["status"] == "open"


@pytest.mark.parametrize("body", [{"municipalities": "Mikkeli"}, {"item_ids": "all"},
                                  {"unexpected": True}])
def test_malformed_matching_requests_get_422(client, coordinator, body):
    make_group(coordinator)
    headers = bearer(coordinator)
    if "item_ids" in body:
        proposal = client.post("/api/v1/matching/proposals", headers=headers,
                               json={}).get_json()
        url = f"/api/v1/matching/proposals/{proposal['id']}/accept"
    else:
        url = "/api/v1/matching/proposals"
    assert client.post(url, headers=headers, json=body).status_code == 422


def test_family_workers_do_not_propose(client):
    worker = make_user("family_worker")
    response = client.post("/api/v1/matching/proposals", headers=bearer(worker), json={})
    assert response.status_code == 403


def test_the_cli_stores_a_proposal(runner, coordinator):
    admin = make_user("admin", municipalities=())
    make_group(coordinator, max_age_months=36)
    make_family(coordinator, members=TODDLERS, plan=True)
    result = runner.invoke(args=["matching", "propose", "--as", admin.email])
    assert result.exit_code == 0, result.output
    assert "1 families placed" in result.output
    assert db.session.scalar(db.select(db.func.count(Proposal.id))) == 1
