"""Small-cell suppression on its own: the rules, and a reader who cannot undo them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.suppression import Figure, protect, statistic
from tests.reports.attack import pinned_figures


def shown(figures):
    return [figure.shown for figure in figures]


def test_figures_of_five_or_more_are_shown_as_they_are():
    line = [Figure(5), Figure(12)]
    protect([line], Figure(17))

    assert shown(line) == [5, 12]


def test_a_lone_small_figure_hides_the_smallest_that_protects_it():
    line = [Figure(3), Figure(9), Figure(6), Figure(20)]
    total = Figure(38)
    protect([line], total)

    # 3 + 6 = 9 > 5: the "<5" is anything from 0 to 4.
    assert shown(line) == ["<5", 9, "x", 20]
    assert total.shown == 38


def test_small_figures_that_add_up_to_zero_are_not_left_alone():
    line = [Figure(0), Figure(0), Figure(7), Figure(9)]
    protect([line], Figure(16))

    # Total less the visible ones would be 0: both zeros. Hiding 7 makes it 7.
    assert shown(line) == ["<5", "<5", "x", 9]


def test_small_figures_that_are_all_four_are_not_left_alone():
    line = [Figure(4), Figure(4), Figure(30)]
    protect([line], Figure(38))

    assert shown(line) == ["<5", "<5", "x"]


def test_a_line_of_small_figures_only_that_would_pin_them_hides_the_total():
    tracks = [Figure(4), Figure(4)]
    statuses = [Figure(8), Figure(0)]
    total = Figure(8)
    protect([tracks, statuses], total)

    assert total.shown == "x"
    assert shown(tracks) == ["<5", "<5"]
    # With the total hidden, the statuses must not give it away.
    assert shown(statuses) == ["x", "<5"]
    assert pinned_figures([shown(tracks), shown(statuses)], total.shown) == []


def test_a_small_total_hides_everything_under_it():
    line = [Figure(1), Figure(2)]
    total = Figure(3)
    protect([line], total)

    assert shown(line) == ["<5", "<5"]
    assert total.shown == "<5"


def test_figures_count_families_not_visits():
    # 12 visits to 3 families: fewer than five families.
    line = [Figure(12, families=3), Figure(30, families=9)]
    protect([line], Figure(42, families=12))

    assert shown(line) == ["<5", "x"]


def test_statistics_are_hidden_with_few_families_or_a_hidden_count():
    count = Figure(7)
    count.hidden = "secondary"

    assert statistic(12.5, 4).shown == "x"
    assert statistic(70.0, 7, count).shown == "x"
    assert statistic(12.5, 5).shown == 12.5


lines_of_counts = st.lists(st.integers(0, 40), min_size=1, max_size=7)


@settings(max_examples=150, deadline=None)
@given(first=lines_of_counts, splits=st.lists(st.lists(st.floats(0, 1), min_size=1,
                                                       max_size=6), max_size=2))
def test_no_hidden_figure_can_be_worked_out(first, splits):
    """Lines that share a total, as the families by track, status, etc. do."""
    total_value = sum(first)
    lines = [[Figure(value) for value in first]]
    for shares in splits:
        # Another split of the same families into categories.
        weights = [share + 0.01 for share in shares]
        values = [int(total_value * weight / sum(weights)) for weight in weights]
        values[-1] += total_value - sum(values)
        lines.append([Figure(value) for value in values])
    total = Figure(total_value)
    protect(lines, total)

    published = [shown(line) for line in lines]
    for line in published:
        assert all(value == "<5" or value == "x" or value >= 5 for value in line)
    assert pinned_figures(published, total.shown) == [], (published, total.shown)
