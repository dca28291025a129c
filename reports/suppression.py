"""Small-cell suppression: no report shows, or lets anyone work out, a figure of
fewer than five families.

How it works
------------
A published figure is a ``Figure``: its value (a count of families, of visits
or of seats) and the number of distinct families behind it.

1. **Primary suppression.** Every figure with fewer than ``MINIMUM`` (5)
   families behind it is hidden and shown as "<5". Zero is fewer than five:
   "no child-protection family in Puumala" is itself a disclosure.

2. **Lines.** Figures that add up to a published total form a *line*: the
   families referred in the period by track, by status, by municipality, by
   referral source and by month are five lines over one total; the visits
   done in one month are a line over the workers who made them; the seats
   taken in the groups are a line over the groups. Reports are built so that
   every figure that is part of a sum belongs to exactly one line, and lines
   share nothing but their total. (The visits of one month by worker add up
   to the month's total only when no visit had two workers; what a reader
   would subtract is judged, the total less the visible figures.)

3. **What a reader knows.** Of a line with a known total, a reader knows the
   sum ``s`` of its hidden figures, that a "<5" hides 0-4 and that an "x"
   (secondary suppression, below) hides a figure of at least 5, or it would
   have been "<5". Hidden "<5" figures alone (``p`` of them) can then be
   worked out exactly when ``p == 1``, when ``s == 0`` (all are zero) or when
   ``s == 4p`` (all are four). With ``q`` "x" figures among them, a "<5" is
   exact only when ``s == 5q`` (each "x" is 5, each "<5" is 0). So a line is
   safe when it hides nothing, or when ``q >= 1`` and ``s > 5q``, or when
   ``q == 0``, ``p >= 2`` and ``0 < s < 4p``. Every hidden "<5" then has at
   least two possible values, whatever else the reader combines from the line.

4. **Secondary suppression.** A line that is not safe hides more of its
   figures, as "x": the smallest one that makes it safe, else its largest
   visible figure (which adds the most to ``s``), until it is safe. Totals are
   never hidden this way, so that one total can be shared by several lines.

5. **The total.** A total of fewer than five is hidden like any figure, and
   then nothing in its lines can be subtracted from it. A line that cannot be
   made safe even with every figure hidden (all of them "<5" and all exactly
   four) hides the total too, as "x", for every line that shares it; then each
   of those lines hides at least one figure with ``s > 5q`` (``s > 0`` when
   all are "<5"), so no line pins the total down, and through it no other.

Rates and statistics that are computed from a count (a group's fill rate, the
median waiting time of the families that waited) are hidden with the count
they come from, or when fewer than five families lie behind them.

Each answer is protected on its own. Two answers for overlapping selections
(one period and a month longer, one worker and all workers) differ by the
families that only one of them counts, and that difference is not protected:
periods are whole months for that reason, and every report read and export
is written to the audit log.
"""

MINIMUM = 5

SMALL = "small"
SECONDARY = "secondary"

# How a hidden figure is written in pages, charts, exports and the API.
MARKERS = {SMALL: "<5", SECONDARY: "x"}


class Figure:
    """A published number, the families behind it, and whether it is hidden."""

    __slots__ = ("value", "families", "hidden")

    def __init__(self, value, families=None):
        self.value = value
        self.families = value if families is None else families
        self.hidden = None

    @property
    def shown(self):
        """The value, or the marker that stands in for it ("<5", "x")."""
        return MARKERS[self.hidden] if self.hidden else self.value

    def hide_if_small(self) -> None:
        if self.families < MINIMUM and not self.hidden:
            self.hidden = SMALL

    def __repr__(self):
        return f"Figure({self.value!r}, families={self.families!r}, hidden={self.hidden!r})"


def line_is_safe(parts, total: Figure | None = None) -> bool:
    """Whether no hidden "<5" of a line can be worked out (see the module's 3.).

    ``total`` is the line's published total, or None when it is hidden. The
    hidden sum is what a reader works out, the total less the visible figures:
    where parts count some things twice (a visit of two workers), that is less
    than the hidden figures' own sum, and the reader's sum is the one to judge.
    """
    hidden = [part for part in parts if part.hidden]
    if not hidden:
        return total is not None
    small = sum(1 for part in hidden if part.hidden == SMALL)
    secondary = len(hidden) - small
    if total is None:
        hidden_sum = sum(part.value for part in hidden)
    else:
        hidden_sum = total.value - sum(part.value for part in parts if not part.hidden)
    if secondary:
        return hidden_sum > MINIMUM * secondary
    if total is None:
        return hidden_sum > 0
    return small >= 2 and 0 < hidden_sum < (MINIMUM - 1) * small


def protect_line(parts, total: Figure | None = None) -> bool:
    """Hide more figures of a line until it is safe; False if even all do not do.

    With an unknown (hidden) total the line must still hide something, or its
    visible figures would add up to the total that the other lines hide.
    """
    while not line_is_safe(parts, total):
        visible = sorted((part for part in parts if not part.hidden),
                         key=lambda part: part.value)
        if not visible:
            return False
        for part in visible:
            part.hidden = SECONDARY
            if line_is_safe(parts, total):
                return True
            part.hidden = None
        visible[-1].hidden = SECONDARY
    return True


def protect(lines, total: Figure | None = None) -> None:
    """Suppress small figures in lines that add up to one shared total.

    ``lines`` is a list of lists of figures; ``total`` is the figure each of
    them adds up to, or None when the lines have no published total (then
    only primary suppression applies).
    """
    for parts in lines:
        for part in parts:
            part.hide_if_small()
    if total is None:
        return
    total.hide_if_small()
    if total.hidden:
        return
    results = [protect_line(parts, total) for parts in lines]
    if all(results):
        return
    total.hidden = SECONDARY
    for parts in lines:
        for part in parts:
            if part.hidden == SECONDARY:
                part.hidden = None
        protect_line(parts)


def statistic(value, families: int, *sources: Figure) -> Figure:
    """A rate, median or percentile over some families, hidden as "x" when
    fewer than five lie behind it or a count it is computed from is hidden."""
    figure = Figure(value, families)
    if families < MINIMUM or any(source.hidden for source in sources):
        figure.hidden = SECONDARY
    return figure
