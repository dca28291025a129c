"""The shape every report figure is published in: tables of rows and columns.

Pages, charts, exports and the API all read these tables, so each shows the
same figures with the same suppression.
"""

from dataclasses import dataclass, field

from reports.suppression import Figure

# What a column holds: labels, counts (suppressed below five families),
# statistics (days, percentages) hidden with the counts behind them, or plain
# numbers that count no one (a group's capacity).
TEXT, COUNT, DAYS, PERCENT, NUMBER = "text", "count", "days", "percent", "number"


@dataclass
class Column:
    key: str
    label: str
    kind: str = COUNT


@dataclass
class Row:
    key: str
    label: str
    cells: dict[str, Figure]
    is_total: bool = False

    def shown(self, column_key):
        """The cell's value or its marker; None where the row has no such cell."""
        cell = self.cells.get(column_key)
        return None if cell is None else cell.shown


@dataclass
class Chart:
    """How a table is drawn: bars or a line, by which columns."""

    kind: str  # "bar", "horizontal_bar" or "line"
    series: tuple[str, ...]  # the column keys drawn, one series each
    description: str = ""


@dataclass
class Table:
    name: str
    title: str
    label_column: Column
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    chart: Chart | None = None
    note: str = ""

    @property
    def body_rows(self) -> list[Row]:
        return [row for row in self.rows if not row.is_total]

    def as_json(self) -> dict:
        """The table as the API answers it: codes, labels and shown values."""
        return {
            "name": self.name,
            "title": str(self.title),
            "columns": [{"key": column.key, "label": str(column.label), "kind": column.kind}
                        for column in [self.label_column, *self.columns]],
            "rows": [{"key": row.key, "label": str(row.label), "total": row.is_total,
                      "values": {column.key: row.shown(column.key)
                                 for column in self.columns}}
                     for row in self.rows],
        }

    def as_lines(self) -> list[list]:
        """A header line and one line per row, as exports write them."""
        header = [str(column.label) for column in [self.label_column, *self.columns]]
        return [header] + [[str(row.label)] + [row.shown(column.key) for column in self.columns]
                           for row in self.rows]


@dataclass
class Report:
    name: str
    title: str
    description: str
    tables: list[Table]

    def table(self, name) -> Table | None:
        return next((table for table in self.tables if table.name == name), None)
