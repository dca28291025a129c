"""Report tables as CSV and as Excel workbooks, ready for a download.

Cells that are text are written as text, never as formulas: a group or a
worker named "=HYPERLINK(...)" must not become one in a spreadsheet.
"""

import csv
import io
import re

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from reports.tables import Table

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What a spreadsheet reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel's limits on a sheet's name: its length and the characters it refuses.
SHEET_TITLE_MAX = 31


def _safe_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    """The table as CSV in UTF-8 with a byte-order mark, which Excel needs to
    read "ä" and "ö" right; hidden figures as "<5" and "x"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in table.as_lines():
        writer.writerow(["" if value is None else _safe_text(value) for value in line])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Table, *, filters_text: str = "", legend: str = "") -> bytes:
    """The table as a one-sheet workbook: title, filters, the table, the legend."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(
        re.sub(r"[\\/*?:\[\]]", " ", str(table.title))[:SHEET_TITLE_MAX].strip())
    bold = Font(bold=True)

    def text_cell(value, font=None):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, even when it starts with "="
        if font:
            cell.font = font
        return cell

    sheet.append([text_cell(str(table.title), bold)])
    if filters_text:
        sheet.append([text_cell(filters_text)])
    sheet.append([])
    header, *rows = table.as_lines()
    sheet.append([text_cell(label, bold) for label in header])
    for line in rows:
        sheet.append([text_cell(line[0])] + [
            text_cell(value) if isinstance(value, str) else value for value in line[1:]])
    if legend:
        sheet.append([])
        sheet.append([text_cell(legend)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
