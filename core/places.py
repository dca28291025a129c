"""Municipalities, venues and blackout dates: looked up by the names the API and
forms use, and kept by an admin."""

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.errors import Conflict, ValidationFailed
from core.models import NAME_MAX, BlackoutDate, Municipality, Venue
from extensions import db

# The default region: the municipalities of the Mikkeli region cooperation
# area, with approximate centroids. init-db creates them when absent.
DEFAULT_MUNICIPALITIES = (
    ("Mikkeli", 61.688, 27.273),
    ("Hirvensalmi", 61.640, 26.780),
    ("Kangasniemi", 61.990, 26.643),
    ("Mäntyharju", 61.418, 26.878),
    ("Pertunmaa", 61.503, 26.478),
    ("Puumala", 61.523, 28.178),
)


def all_municipalities() -> list[Municipality]:
    """Every municipality, by name."""
    return list(db.session.scalars(db.select(Municipality).order_by(Municipality.name)))


def municipality_named(name, field="municipality") -> Municipality:
    """The municipality of that name, or a field error naming the known ones."""
    found = db.session.scalar(db.select(Municipality).where(Municipality.name == name))
    if found is None:
        raise ValidationFailed(
            _("Unknown municipality."),
            fields={field: _("Unknown municipality: %(name)s.", name=str(name)[:60])},
        )
    return found


def municipalities_named(names, field="municipalities") -> list[Municipality]:
    """The municipalities of those names, all of them or a field error."""
    return [municipality_named(name, field) for name in dict.fromkeys(names)]


def ensure_reference_data() -> int:
    """Create the default region's municipalities that are missing; return how many."""
    existing = set(db.session.scalars(db.select(Municipality.name)))
    created = 0
    for name, latitude, longitude in DEFAULT_MUNICIPALITIES:
        if name not in existing:
            db.session.add(Municipality(name=name, latitude=latitude, longitude=longitude))
            created += 1
    return created


def venue_named(name, field="venue") -> Venue:
    """The venue of that name, or a field error."""
    found = db.session.scalar(db.select(Venue).where(Venue.name == name))
    if found is None:
        raise ValidationFailed(_("Unknown venue."), fields={field: _("Unknown venue.")})
    return found


# --- kept by an admin ----------------------------------------------------------

# Centroids are in Finland: anything else is a typing error that would make
# every distance and travel buffer wrong.
LATITUDE_RANGE = (59.0, 71.0)
LONGITUDE_RANGE = (19.0, 32.0)
ADDRESS_MAX = 200
REASON_MAX = 200

# What the tables that refer to a municipality or a venue hold, in words.
# A table not listed here still blocks a removal, as "other records".
REFERRING_RECORDS = {
    "families": _l("families"),
    "user_municipalities": _l("users"),
    "group_municipalities": _l("groups"),
    "peer_groups": _l("groups"),
    "venues": _l("venues"),
    "home_visits": _l("home visits"),
    "group_sessions": _l("group sessions"),
}


def _clean_name(name, model, current=None) -> str:
    """A name that is given, short enough and not another row's (case aside)."""
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        message = _("Give a name of at most %(n)d characters.", n=NAME_MAX)
        raise ValidationFailed(message, fields={"name": message})
    query = sa.select(model.id).where(sa.func.lower(model.name) == name.lower())
    if current is not None:
        query = query.where(model.id != current.id)
    if db.session.scalar(query.limit(1)) is not None:
        raise Conflict(_("The name %(name)s is already in use.", name=name),
                       code="duplicate_name", fields={"name": _("Already in use.")})
    return name


def _check_centroid(latitude, longitude) -> None:
    fields = {}
    for field, value, (low, high) in (("latitude", latitude, LATITUDE_RANGE),
                                      ("longitude", longitude, LONGITUDE_RANGE)):
        # NaN fails every comparison, so it is refused here too.
        if not isinstance(value, (int, float)) or not low <= value <= high:
            fields[field] = _("Give a number from %(low)s to %(high)s (in Finland).",
                              low=f"{low:g}", high=f"{high:g}")
    if fields:
        raise ValidationFailed(_("Check the highlighted fields."), fields=fields)


def records_using(row) -> list[str]:
    """What refers to a municipality or a venue, in words; empty when unused.

    Every foreign key to the row's table is asked, so a table added later
    blocks removal too.
    """
    target = row.__table__
    found = []
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table is not target:
                continue
            if db.session.scalar(sa.select(sa.literal(1)).select_from(table).where(
                    key.parent == row.id).limit(1)) is not None:
                words = str(REFERRING_RECORDS.get(table.name, _("other records")))
                if words not in found:
                    found.append(words)
    return found


def create_municipality(*, name, latitude, longitude) -> Municipality:
    """A new municipality with its approximate centroid."""
    _check_centroid(latitude, longitude)
    municipality = Municipality(name=_clean_name(name, Municipality), latitude=latitude,
                                longitude=longitude)
    db.session.add(municipality)
    db.session.flush()
    return municipality


def update_municipality(municipality: Municipality, *, name, latitude,
                        longitude) -> Municipality:
    """Rename a municipality or move its centroid."""
    _check_centroid(latitude, longitude)
    municipality.name = _clean_name(name, Municipality, municipality)
    municipality.latitude, municipality.longitude = latitude, longitude
    return municipality


def delete_unused(row) -> None:
    """Remove a municipality or a venue nothing refers to; else a Conflict saying what does."""
    in_use = records_using(row)
    if in_use:
        raise Conflict(_("%(name)s cannot be removed: %(records)s refer to it.",
                         name=row.name, records=", ".join(in_use)),
                       code="in_use")
    db.session.delete(row)
    db.session.flush()


def all_venues() -> list[Venue]:
    """Every venue, by name."""
    return list(db.session.scalars(db.select(Venue).order_by(Venue.name)))


def _venue_fields(municipality, address) -> tuple[Municipality, str]:
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        message = _("At most %(n)d characters.", n=ADDRESS_MAX)
        raise ValidationFailed(message, fields={"address": message})
    return municipality_named(municipality), address


def create_venue(*, name, municipality, address="", accessible=True) -> Venue:
    """A new venue; its municipality is given by name."""
    place, address = _venue_fields(municipality, address)
    venue = Venue(name=_clean_name(name, Venue), municipality=place, address=address,
                  accessible=bool(accessible))
    db.session.add(venue)
    db.session.flush()
    return venue


def update_venue(venue: Venue, *, name, municipality, address="", accessible=True) -> Venue:
    """Change a venue's details."""
    place, address = _venue_fields(municipality, address)
    venue.name = _clean_name(name, Venue, venue)
    venue.municipality, venue.address, venue.accessible = place, address, bool(accessible)
    return venue


def blackout_dates(*, today: date) -> tuple[list[BlackoutDate], list[BlackoutDate]]:
    """The blackout dates from today on (soonest first) and those before (latest first)."""
    upcoming = db.session.scalars(db.select(BlackoutDate).where(
        BlackoutDate.day >= today).order_by(BlackoutDate.day))
    past = db.session.scalars(db.select(BlackoutDate).where(
        BlackoutDate.day < today).order_by(BlackoutDate.day.desc()))
    return list(upcoming), list(past)


def add_blackout_date(*, day: date, reason) -> BlackoutDate:
    """Close a date for scheduled work; series made from now on skip it."""
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        message = _("Give a reason of at most %(n)d characters.", n=REASON_MAX)
        raise ValidationFailed(message, fields={"reason": message})
    if db.session.scalar(sa.select(BlackoutDate.id).where(BlackoutDate.day == day)):
        raise Conflict(_("This date is already a blackout date."), code="duplicate_day",
                       fields={"day": _("Already a blackout date.")})
    blackout = BlackoutDate(day=day, reason=reason)
    db.session.add(blackout)
    db.session.flush()
    return blackout


def remove_blackout_date(blackout: BlackoutDate) -> None:
    """Open a date again; sessions already made are not added back."""
    db.session.delete(blackout)
    db.session.flush()
