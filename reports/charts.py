"""Charts of report tables as SVG drawn on the server by pygal.

The SVG goes into the page as it is: no script (pygal's configuration script
is taken out), no style element or attribute (static/reports.css styles
pygal's classes; the Content-Security-Policy allows no inline style), and an
accessible name: role="img" with a title and a description. Hidden
figures are not drawn; their place on the axis says "<5" or "x", and the table
beside the chart has every figure.
"""

import sys
import xml.etree.ElementTree as ElementTree

import pygal
import pygal.style
from flask_babel import gettext as _

from reports.tables import Table

# pygal adds an import hook for its map plugins that has no find_spec(): every
# import of a missing optional module then warns (an error in the tests), and
# Python 3.12 ignores such hooks anyway. Reports draw no maps.
sys.meta_path[:] = [finder for finder in sys.meta_path
                    if type(finder).__name__ != "PluginImportFixer"]

SVG = "{http://www.w3.org/2000/svg}"

CHART_TYPES = {"bar": pygal.Bar, "horizontal_bar": pygal.HorizontalBar, "line": pygal.Line}
# Only the font sizes matter: pygal lays labels out by them, and
# static/reports.css draws the text at the same sizes.
FONT_SIZE = 13
STYLE = pygal.style.Style(
    label_font_size=FONT_SIZE, major_label_font_size=FONT_SIZE, legend_font_size=FONT_SIZE,
    title_font_size=FONT_SIZE, value_font_size=FONT_SIZE, tooltip_font_size=FONT_SIZE,
    no_data_font_size=FONT_SIZE)


def _axis_label(row, series) -> str:
    """A row's label, with the marker of any hidden figure it has in the chart."""
    markers = sorted({str(row.shown(key)) for key in series if row.cells[key].hidden})
    return f"{row.label} ({', '.join(markers)})" if markers else str(row.label)


def render(table: Table, element_id: str) -> str:
    """The table's chart as an inline ``<svg>`` element, or "" for no chart."""
    chart_spec = table.chart
    if chart_spec is None:
        return ""
    rows = table.body_rows
    columns = {column.key: column for column in table.columns}
    horizontal = chart_spec.kind == "horizontal_bar"
    chart = CHART_TYPES[chart_spec.kind](
        js=[], css=[], no_prefix=True, disable_xml_declaration=True, style=STYLE,
        width=720, height=120 + 32 * len(rows) if horizontal else 400,
        show_legend=len(chart_spec.series) > 1, legend_at_bottom=True,
        x_label_rotation=0 if horizontal or len(rows) < 3 else 30,
        print_values=False, allow_interruptions=True, include_x_axis=True,
        truncate_label=-1, truncate_legend=-1, no_data_text=_("No figures"),
        margin_right=72, classes=["pygal-chart", "report-chart"])
    chart.x_labels = [_axis_label(row, chart_spec.series) for row in rows]
    for key in chart_spec.series:
        chart.add(str(columns[key].label), [
            None if row.cells[key].hidden or row.cells[key].value is None
            else row.cells[key].value for row in rows])
    tree = chart.render_tree()
    return _accessible(tree, element_id, str(table.title), str(chart_spec.description))


def _accessible(svg, element_id: str, title: str, description: str) -> str:
    """Drop pygal's script, style and title; name the chart for assistive technology."""
    unwanted = (f"{SVG}script", f"{SVG}style", "script", "style")
    for parent in list(svg.iter()):
        # The Content-Security-Policy allows no inline style, attributes included.
        parent.attrib.pop("style", None)
        for child in list(parent):
            # Comments have a function, not a name, for a tag.
            if not isinstance(child.tag, str) or child.tag in unwanted:
                parent.remove(child)
    for child in list(svg):
        if child.tag in (f"{SVG}title", "title"):
            svg.remove(child)
    svg.set("id", element_id)
    svg.set("role", "img")
    svg.set("aria-labelledby", f"{element_id}-title {element_id}-desc")
    heading = ElementTree.Element("title", {"id": f"{element_id}-title"})
    heading.text = title
    summary = ElementTree.Element("desc", {"id": f"{element_id}-desc"})
    summary.text = " ".join(part for part in (description, _(
        "The table beside the chart has the same figures.")) if part)
    svg.insert(0, summary)
    svg.insert(0, heading)
    return ElementTree.tostring(svg, encoding="unicode", short_empty_elements=True)
