"""The shared codes of the work: tracks, referral sources and support areas.

The same codes are used in the database, the API and the interface; labels
are translated through the message catalogues.
"""

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

CHILD_PROTECTION = "child_protection"
PREVENTIVE = "preventive"

TRACKS = {
    CHILD_PROTECTION: _l("Child-protection family work"),
    PREVENTIVE: _l("Preventive family work"),
}

SOCIAL_WORKER = "social_worker"

REFERRAL_SOURCES = {
    SOCIAL_WORKER: _l("Social worker"),
    "health_care": _l("Health care"),
    "child_health_clinic": _l("Child health clinic"),
    "early_childhood_education": _l("Early childhood education"),
    "other_authority": _l("Other authority"),
    "self": _l("The family itself (voluntary)"),
}

# A child-protection family always comes through a social worker; preventive
# work is voluntary and comes from the other sources or from the family itself.
REFERRAL_SOURCES_BY_TRACK = {
    CHILD_PROTECTION: (SOCIAL_WORKER,),
    PREVENTIVE: ("health_care", "child_health_clinic", "early_childhood_education",
                 "other_authority", "self"),
}

SUPPORT_AREAS = {
    "parent_child_relationship": _l("Supporting the relationship between child and parent"),
    "positive_upbringing": _l("Finding positive means of upbringing"),
    "family_resources": _l("Finding and increasing the family's own resources"),
    "everyday_problems": _l("Guidance in managing everyday problems"),
    "time_together": _l("Encouraging the family to spend time together"),
    "doing_together": _l("Doing things together"),
    "service_mapping": _l("Mapping services"),
    "age_appropriate_development": _l("Supporting age-appropriate development"),
    "parenthood": _l("Supporting parenthood"),
    "care_and_upbringing": _l("Guidance in the care and upbringing of children"),
    "everyday_routines": _l("Managing the home's everyday life and routines"),
    "family_functioning": _l("Strengthening the family's capacity to function"),
    "interaction_and_networks": _l(
        "Supporting interaction skills and widening social networks"),
    "preventing_exclusion": _l("Preventing social exclusion"),
}

# Where the source text lists each area; any area may be a goal on either track.
SUPPORT_AREA_SOURCE_TRACK = {
    code: (CHILD_PROTECTION if index < 8 else PREVENTIVE)
    for index, code in enumerate(SUPPORT_AREAS)
}

LANGUAGES = {
    "fi": _l("Finnish"),
    "sv": _l("Swedish"),
    "en": _l("English"),
    "ru": _l("Russian"),
    "uk": _l("Ukrainian"),
    "ar": _l("Arabic"),
    "so": _l("Somali"),
    "fa": _l("Persian"),
}


def choices(pairs, blank=None) -> list[SelectChoice]:
    """A select's options from (value, label) pairs or a code-to-label mapping.

    ``blank`` labels an empty first option, for "none" or "all".
    """
    if isinstance(pairs, dict):
        pairs = pairs.items()
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]
