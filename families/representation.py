"""A family's records as JSON: the API's shapes and the right-of-access export."""

from core.localtime import iso_local
from families.models import Family, Member
from families.services import may_see_address


def member_json(member: Member) -> dict:
    return {
        "id": member.id,
        "role": member.role,
        "first_name": member.first_name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "phone": member.phone,
        "email": member.email,
        "reminder_channel": member.reminder_channel,
        "locale": member.locale,
    }


def plan_json(family: Family) -> dict | None:
    plan = family.plan
    if plan is None:
        return None
    return {
        "goals": list(plan.goals),
        "content": plan.content,
        "agreed_with": plan.agreed_with,
        "start_date": plan.start_date.isoformat(),
        "review_date": plan.review_date.isoformat(),
        "social_worker_participated": plan.social_worker_participated,
        "updated_at": iso_local(plan.updated_at),
    }


def family_json(family: Family, reader, *, detail=True, right_of_access=False) -> dict:
    """A family as ``reader`` (a user) may see it: an address under non-disclosure
    is null for those outside its readers (``services.may_see_address``), but
    present in the right-of-access export, which is the family's own."""
    disclosed = right_of_access or may_see_address(reader, family)
    data = {
        "id": family.id,
        "reference": family.reference,
        "surname": family.surname,
        "municipality": family.municipality.name,
        "address": family.address if disclosed else None,
        "address_non_disclosure": family.address_non_disclosure,
        "track": family.track,
        "referral_source": family.referral_source,
        "referral_date": family.referral_date.isoformat(),
        "responsible_social_worker_id": family.responsible_social_worker_id,
        "family_worker_ids": [worker.id for worker in family.family_workers],
        "status": family.status,
        "languages": list(family.languages),
    }
    if detail:
        data["members"] = [member_json(member) for member in family.members]
        data["plan"] = plan_json(family)
    return data
