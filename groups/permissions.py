"""Who may manage a group, see its roster, record attendance and place families."""

from accounts.models import User
from core.errors import Forbidden
from core.roles import ADMIN, COORDINATOR, FAMILY_WORKER
from families.models import Family
from families.services import can_see as can_see_family
from groups.models import PeerGroup


def can_manage(user: User, group: PeerGroup | None = None) -> bool:
    """Admins manage every group; coordinators those serving their municipalities."""
    if user.role == ADMIN:
        return True
    if user.role != COORDINATOR:
        return False
    if group is None:
        return True
    return bool(set(group.municipalities) & set(user.municipalities))


def can_see_roster(user: User, group: PeerGroup) -> bool:
    """The roster names families: managers and the group's facilitators only."""
    return can_manage(user, group) or user in group.facilitators


def can_record_attendance(user: User, group: PeerGroup) -> bool:
    """Facilitators record attendance; managers may correct it."""
    return can_see_roster(user, group)


def can_enroll(user: User, group: PeerGroup | None, family: Family) -> bool:
    """Managers place families they see; a family worker their own families.

    Without a group: whether the user may place the family in some group (a
    coordinator manages those serving their municipalities).
    """
    if not can_see_family(user, family):
        return False
    if can_manage(user, group):
        return True
    return user.role == FAMILY_WORKER and user in family.family_workers


def require(allowed: bool, message) -> None:
    """Refuse an action the user may not take, with ``message`` saying why."""
    if not allowed:
        raise Forbidden(message)
