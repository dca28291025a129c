"""The matching pages: ranked groups and families explained in both languages,
bulk proposals made, reviewed, accepted in whole or part, recomputed and rejected."""

import re
from datetime import date

import sqlalchemy as sa

from extensions import db
from groups import services as group_services
from groups.models import Enrollment
from matching import services
from matching.models import Proposal, ProposalItem
from tests.conftest import HELSINKI, NOW, csrf_token_from, login, make_family, make_group

TODDLERS = [{"role": "guardian", "first_name": "Anna"},
            {"role": "child", "first_name": "Eeli", "birth_date": date(2025, 1, 10)}]


def html_of(response) -> str:
    return response.get_data(as_text=True)


def post_form(client, url, data, page_url=None):
    """Post a page's form as a browser would: with the CSRF token of the session."""
    token = csrf_token_from(html_of(client.get(page_url or url)))
    return client.post(url, data={**data, "csrf_token": token})


def waiting_family(coordinator, **overrides):
    """A family with a plan and a toddler, waiting for a group."""
    arguments = {"members": TODDLERS, "plan": True}
    arguments.update(overrides)
    return make_family(coordinator, **arguments)


def proposal_id_of(response) -> int:
    match = re.search(r"/matching/proposals/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def stored_proposal(proposal_id) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, proposal_id)


def enrolled_family_ids(group) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(sa.select(Enrollment.family_id).where(
        Enrollment.group_id == group.id, Enrollment.status == "enrolled")))


def make_proposal(client) -> int:
    """A proposal made through the list page's form, for the default municipalities."""
    response = post_form(client, "/matching/proposals", {"municipalities": ["Mikkeli"]},
                         page_url="/matching/")
    assert response.status_code == 302, html_of(response)
    return proposal_id_of(response)


# --- ranked lists ----------------------------------------------------------

def test_family_page_lists_a_fitting_group_first_with_its_explanation(client, coordinator):
    fitting = make_group(coordinator, name="Taaperot", max_age_months=36)
    make_group(coordinator, name="Isommat", min_age_months=48, max_age_months=96)
    family = waiting_family(coordinator)
    login(client, coordinator)
    response = client.get(f"/matching/families/{family.id}")
    assert response.status_code == 200
    html = html_of(response)
    assert html.index("Taaperot") < html.index("Groups that do not fit") < \
        html.index("Isommat")
    assert "1 of 2 plan goals covered" in html
    assert "child 22 months, range 0–36 months" in html
    assert "<th scope=\"row\">Goals</th>" in html
    assert "No child is 48–96 months old at the first session ahead." in html
    assert f"/groups/families/{family.id}/place?group_id={fitting.id}" in html


def test_family_page_explains_in_finnish(client, coordinator):
    make_group(coordinator, name="Taaperot", max_age_months=36)
    family = waiting_family(coordinator)
    coordinator.locale = "fi"
    db.session.commit()
    login(client, coordinator)
    html = html_of(client.get(f"/matching/families/{family.id}"))
    assert "1/2 suunnitelman tavoitteesta" in html
    assert "plan goals covered" not in html


def test_family_page_of_an_unseen_family_is_not_found(client, coordinator, family_worker):
    family = waiting_family(coordinator)
    login(client, family_worker)
    assert client.get(f"/matching/families/{family.id}").status_code == 404


def test_group_page_ranks_waiting_families(client, coordinator):
    group = make_group(coordinator, name="Taaperot", max_age_months=36)
    families = [waiting_family(coordinator) for _ in range(2)]
    login(client, coordinator)
    response = client.get(f"/matching/groups/{group.id}")
    assert response.status_code == 200
    html = html_of(response)
    for family in families:
        assert family.reference in html
        assert f'href="/families/{family.id}"' in html
        assert f"/groups/{group.id}/place?family_id={family.id}" in html
    assert "plan goals covered" in html


def test_group_detail_links_its_managers_to_the_ranking(client, coordinator):
    group = make_group(coordinator)
    login(client, coordinator)
    html = html_of(client.get(f"/groups/{group.id}"))
    assert "Best waiting families" in html
    assert f'href="/matching/groups/{group.id}"' in html
    assert 'href="/matching/"' in html  # the navigation


def test_family_worker_may_not_see_rankings_or_proposals(client, coordinator,
                                                         family_worker):
    group = make_group(coordinator, max_age_months=36)
    waiting_family(coordinator)
    proposal = services.propose(coordinator, now=NOW, zone=HELSINKI)
    db.session.commit()
    login(client, family_worker)
    assert client.get(f"/matching/groups/{group.id}").status_code == 403
    assert client.get("/matching/").status_code == 403
    assert client.get(f"/matching/proposals/{proposal.id}").status_code == 403
    response = post_form(client, "/matching/proposals", {}, page_url="/")
    assert response.status_code == 403
    assert 'href="/matching/"' not in html_of(client.get("/"))


# --- proposals -------------------------------------------------------------

def test_list_offers_the_coordinators_own_municipalities(client, coordinator):
    login(client, coordinator)
    html = html_of(client.get("/matching/"))
    assert re.search(r'<input checked[^>]*value="Mikkeli"', html)
    assert re.search(r'<input checked[^>]*value="Hirvensalmi"', html)
    assert not re.search(r'<input checked[^>]*value="Puumala"', html)
    assert "<legend>Municipalities</legend>" in html
    assert "No proposals yet." in html


def test_a_proposal_made_on_the_form_and_accepted_enrolls_the_families(client,
                                                                       coordinator):
    group = make_group(coordinator, name="Taaperot", capacity=3, max_age_months=36)
    families = [waiting_family(coordinator) for _ in range(2)]
    login(client, coordinator)
    proposal_id = make_proposal(client)
    url = f"/matching/proposals/{proposal_id}"
    html = html_of(client.get(url))
    assert "Taaperot" in html and "plan goals covered" in html
    assert html.count('name="item_ids"') == 2
    assert "<legend>Taaperot" in html

    response = post_form(client, f"{url}/accept", {"accept_all": "Accept all"},
                         page_url=url)
    assert response.status_code == 302 and response.headers["Location"] == url
    assert enrolled_family_ids(group) == {family.id for family in families}
    assert stored_proposal(proposal_id).status == "accepted"
    html = html_of(client.get(url))
    assert "2 families were placed." in html
    assert "Placed" in html

    listing = html_of(client.get("/matching/"))
    assert url in listing and "Accepted" in listing


def test_accepting_the_selected_rejects_the_rest(client, coordinator):
    group = make_group(coordinator, capacity=3, max_age_months=36)
    for _ in range(3):
        waiting_family(coordinator)
    login(client, coordinator)
    proposal_id = make_proposal(client)
    first = min(item.id for item in stored_proposal(proposal_id).items)
    url = f"/matching/proposals/{proposal_id}"
    response = post_form(client, f"{url}/accept", {
        "item_ids": [str(first)], "accept_selected": "Accept selected"}, page_url=url)
    assert response.status_code == 302
    proposal = stored_proposal(proposal_id)
    assert proposal.status == "partly_accepted"
    assert sorted(item.status for item in proposal.items) == [
        "accepted", "rejected", "rejected"]
    assert len(enrolled_family_ids(group)) == 1
    assert "1 family was placed." in html_of(client.get(url))


def test_accepting_none_selected_is_refused_on_the_page(client, coordinator):
    make_group(coordinator, capacity=3, max_age_months=36)
    waiting_family(coordinator)
    login(client, coordinator)
    proposal_id = make_proposal(client)
    url = f"/matching/proposals/{proposal_id}"
    response = post_form(client, f"{url}/accept", {"accept_selected": "Accept selected"},
                         page_url=url)
    assert response.status_code == 422
    assert "Choose the families to place" in html_of(response)
    assert stored_proposal(proposal_id).status == "open"


def test_left_out_families_show_their_reason(client, coordinator):
    make_group(coordinator, capacity=1, max_age_months=36)
    make_group(coordinator, name="Vauvat", capacity=1, max_age_months=12)
    older = waiting_family(coordinator, members=[
        {"role": "child", "first_name": "Ville", "birth_date": date(2015, 1, 1)}])
    login(client, coordinator)
    proposal_id = make_proposal(client)
    html = html_of(client.get(f"/matching/proposals/{proposal_id}"))
    assert "Families left out" in html
    assert older.reference in html
    assert "No child is 0–" in html


def test_a_stale_proposal_warns_and_accepting_computes_a_new_one(client, coordinator,
                                                                   clock):
    group = make_group(coordinator, capacity=2, max_age_months=36)
    for _ in range(2):
        waiting_family(coordinator)
    login(client, coordinator)
    proposal_id = make_proposal(client)
    group_services.update_group(coordinator, group, {"capacity": 4}, zone=HELSINKI, clock=clock)
    db.session.commit()

    url = f"/matching/proposals/{proposal_id}"
    html = html_of(client.get(url))
    assert "The data changed since this proposal was made" in html
    assert "Compute again" in html
    response = post_form(client, f"{url}/accept", {"accept_all": "Accept all"},
                         page_url=url)
    assert response.status_code == 302
    new_id = proposal_id_of(response)
    assert new_id != proposal_id
    assert stored_proposal(proposal_id).status == "stale"
    assert enrolled_family_ids(group) == set()
    html = html_of(client.get(f"/matching/proposals/{new_id}"))
    assert "A new proposal was computed" in html
    assert "The data changed since this proposal was made" not in html


def test_compute_again_makes_a_new_proposal(client, coordinator, clock):
    group = make_group(coordinator, capacity=2, max_age_months=36)
    waiting_family(coordinator)
    login(client, coordinator)
    proposal_id = make_proposal(client)
    group_services.update_group(coordinator, group, {"capacity": 3}, zone=HELSINKI, clock=clock)
    db.session.commit()
    url = f"/matching/proposals/{proposal_id}"
    response = post_form(client, "/matching/proposals", {"municipalities": ["Mikkeli"]},
                         page_url=url)
    assert response.status_code == 302 and proposal_id_of(response) != proposal_id


def test_rejecting_asks_first(client, coordinator):
    make_group(coordinator, capacity=3, max_age_months=36)
    waiting_family(coordinator)
    login(client, coordinator)
    proposal_id = make_proposal(client)
    url = f"/matching/proposals/{proposal_id}/reject"
    assert f'href="{url}"' in html_of(client.get(f"/matching/proposals/{proposal_id}"))
    page = client.get(url)
    assert page.status_code == 200
    assert "Reject the proposal of" in html_of(page)
    assert stored_proposal(proposal_id).status == "open"

    response = post_form(client, url, {})
    assert response.status_code == 302
    proposal = stored_proposal(proposal_id)
    assert proposal.status == "rejected"
    assert {item.status for item in proposal.items} == {"rejected"}
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0


def test_a_decided_proposal_cannot_be_accepted_again(client, coordinator):
    make_group(coordinator, capacity=3, max_age_months=36)
    waiting_family(coordinator)
    login(client, coordinator)
    proposal_id = make_proposal(client)
    url = f"/matching/proposals/{proposal_id}"
    post_form(client, f"{url}/reject", {})
    response = post_form(client, f"{url}/accept", {"accept_all": "Accept all"},
                         page_url=url)
    assert response.status_code == 422
    assert "The proposal has already been decided." in html_of(response)


def test_forms_without_csrf_token_are_refused(client, coordinator):
    make_group(coordinator, capacity=3, max_age_months=36)
    waiting_family(coordinator)
    login(client, coordinator)
    response = client.post("/matching/proposals", data={"municipalities": ["Mikkeli"]})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == 0

    proposal_id = make_proposal(client)
    url = f"/matching/proposals/{proposal_id}"
    assert client.post(f"{url}/accept", data={"accept_all": "Accept all"}).status_code \
        == 400
    assert client.post(f"{url}/reject", data={}).status_code == 400
    assert stored_proposal(proposal_id).status == "open"
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ProposalItem.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) == 0
