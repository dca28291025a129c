"""Looking up municipalities and venues by the names the API and forms use."""

from flask_babel import gettext as _

from core.errors import ValidationFailed
from core.models import Municipality, Venue
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
