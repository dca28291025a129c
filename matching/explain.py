"""Explanations of matches in the reader's language, from their stored parts."""

from babel.dates import get_day_names
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from matching.scoring import Match


def weekday_name(weekday: int | None) -> str:
    """"Tuesday" in the reader's language (1 is Monday)."""
    if not weekday:
        return ""
    return get_day_names("wide", locale=get_locale())[weekday - 1]


def criterion_text(criterion: dict) -> str:
    """One line such as "2 of 3 plan goals covered"."""
    code, params = criterion["criterion"], criterion["params"]
    if code == "goals":
        return _("%(covered)d of %(total)d plan goals covered", **params)
    if code == "distance":
        if params["same"]:
            return _("Meets in the family's own municipality")
        return _("%(km)d km from the family's municipality", km=params["km"])
    if code == "age":
        return _("child %(age)d months, range %(low)d–%(high)d months", **params)
    if code == "timing":
        text = ngettext("%(weekday)s sessions clash with %(num)d home visit",
                        "%(weekday)s sessions clash with %(num)d home visits",
                        params["clashes"], weekday=weekday_name(params["weekday"]))
        if params.get("inside") is not None:
            text += "; " + _("%(inside)d of %(sessions)d sessions in the family's preferred"
                             " hours", inside=params["inside"], sessions=params["sessions"])
        return text
    if code == "waiting":
        return ngettext("waiting %(num)d day since referral",
                        "waiting %(num)d days since referral", params["days"])
    return code


def rule_text(rule: str | None, params: dict | None = None) -> str:
    """Why a pair is excluded, or why a family got no seat."""
    params = params or {}
    texts = {
        "plan_required": _("The family has no plan yet."),
        "track_not_allowed": _("The group is not for families on this track."),
        "municipality_not_served": _("The group does not serve the family's municipality."),
        "no_shared_language": _("The family and the group share no language."),
        "already_in_group": _("The family already has a place, waits or has finished in"
                              " this group."),
        "group_not_open": _("The group is not taking families or has no sessions ahead."),
        "groups_full": _("The groups that fit were filled by families that fit them better."),
        "no_group_serves_municipality": _("No group with free places serves the family's"
                                          " municipality."),
    }
    if rule == "no_child_in_age_range":
        return _("No child is %(low)d–%(high)d months old at the first session ahead.",
                 low=params.get("low", 0), high=params.get("high", 0))
    if rule == "too_many_clashes":
        return _("%(clashes)d of %(sessions)d sessions clash with the family's home visits"
                 " (the limit is %(limit)d%%).", **params)
    return texts.get(rule, rule or "")


def match_json(match: Match) -> dict:
    """A match with its explanation, for the API and the pages."""
    data = {"family_id": match.family_id, "group_id": match.group_id,
            "eligible": match.eligible, "score": match.score if match.eligible else None}
    if match.eligible:
        data["criteria"] = [{**criterion.as_dict(), "text": criterion_text(
            criterion.as_dict())} for criterion in match.criteria]
    else:
        data["rule"] = match.rule
        data["text"] = rule_text(match.rule, match.rule_params)
    return data


def item_json(item) -> dict:
    """A proposal's item with its explanation, for the API and the pages."""
    explanation = item.explanation or {}
    data = {"id": item.id, "family_id": item.family_id, "group_id": item.group_id,
            "status": item.status, "score": item.score_tenths / 10 if item.group_id else None,
            "member_ids": list(item.member_ids or ()), "enrollment_id": item.enrollment_id,
            "message": item.message}
    if item.group_id:
        data["criteria"] = [{**criterion, "text": criterion_text(criterion)}
                            for criterion in explanation.get("criteria", ())]
    else:
        data["reason"] = explanation.get("rule")
        data["text"] = rule_text(explanation.get("rule"), explanation.get("params"))
    return data
