"""Explanations of matches in the reader's language, from their stored parts, and
the shapes of matches and proposals' items, for the API and the pages alike."""

from babel.dates import get_day_names
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from marshmallow import fields, missing

from core.fields import Body, Choice
from matching.scoring import CRITERIA, Match


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


class CriterionSchema(Body):
    """One criterion of a score, with its points and the sentence that explains it."""

    criterion = Choice(CRITERIA)
    points = fields.Float()
    max = fields.Float()
    params = fields.Dict()
    text = fields.String()

    def read_text(self, criterion: dict):
        return criterion_text(criterion)


class MatchSchema(Body):
    """A family and a group: eligible with a score and its criteria, or the rule
    that keeps them apart."""

    family_id = fields.Integer()
    group_id = fields.Integer()
    eligible = fields.Boolean()
    score = fields.Float(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionSchema))
    rule = fields.String()
    text = fields.String()

    def read_score(self, match: Match):
        return match.score if match.eligible else None

    def read_criteria(self, match: Match):
        if not match.eligible:
            return missing
        return [criterion.as_dict() for criterion in match.criteria]

    def read_rule(self, match: Match):
        return missing if match.eligible else match.rule

    def read_text(self, match: Match):
        return missing if match.eligible else rule_text(match.rule, match.rule_params)


class ProposalItemSchema(Body):
    """A family of a proposal: its group (or none, with the reason) and score."""

    id = fields.Integer()
    family_id = fields.Integer()
    group_id = fields.Integer(allow_none=True)
    status = fields.String()
    score = fields.Float(allow_none=True)
    member_ids = fields.List(fields.Integer())
    enrollment_id = fields.Integer(allow_none=True)
    message = fields.String(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionSchema))
    reason = fields.String(allow_none=True)
    text = fields.String()

    # A placed item is explained by its criteria, one left out by its rule.

    def read_score(self, item):
        return item.score_tenths / 10 if item.group_id else None

    def read_member_ids(self, item):
        return list(item.member_ids or ())

    def read_criteria(self, item):
        if not item.group_id:
            return missing
        return (item.explanation or {}).get("criteria", ())

    def read_reason(self, item):
        return missing if item.group_id else (item.explanation or {}).get("rule")

    def read_text(self, item):
        if item.group_id:
            return missing
        explanation = item.explanation or {}
        return rule_text(explanation.get("rule"), explanation.get("params"))
