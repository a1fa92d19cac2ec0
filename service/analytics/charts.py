"""Server-side SVG charts for the HR dashboard: no script, no CDN, no style attributes.

Colours come from classes styled in defuse.css (the `/* analytics */` section). Each chart has
a <title> and <desc> (named by aria-labelledby) and the page shows the same data as a table.
Suppressed cells are drawn hatched and labelled "suppressed", never as zero. Texts are in the
page's language (Flask-Babel), so charts are drawn during a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import format_decimal, gettext, ngettext
from markupsafe import Markup, escape

HEAT_LEVELS = 5
SERIES_CLASSES = 11


@dataclass(frozen=True)
class HeatCell:
    value: int | None  # the label: number of reports; None: suppressed
    risk: float | None = None  # the colour: mean risk, 0 to 1

    @property
    def suppressed(self) -> bool:
        return self.value is None


def _text(value: object) -> str:
    return str(escape(str(value)))


def _heat_class(risk: float) -> str:
    """A fixed scale of mean risk (0-0.2, ..., 0.8-1), so a colour means the same in every
    view."""
    level = 1 + min(HEAT_LEVELS - 1, max(0, int(risk * HEAT_LEVELS)))
    return f"heat-{level}"


def heatmap(
    chart_id: str,
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    cells: Sequence[Sequence[HeatCell]],
) -> Markup:
    """Rows (org units) by columns (periods), shaded by mean risk, labelled with the number
    of reports."""
    label_width, cell_width, cell_height, header = 210, 64, 30, 42
    width = label_width + cell_width * max(1, len(column_labels)) + 10
    height = header + cell_height * max(1, len(row_labels)) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(description)}</desc>',
        _hatch_pattern(chart_id),
    ]
    for col, label in enumerate(column_labels):
        x = label_width + col * cell_width + cell_width / 2
        parts.append(
            f'<text class="axis-label" x="{x:.0f}" y="{header - 12}" '
            f'text-anchor="middle">{_text(label)}</text>'
        )
    for row, label in enumerate(row_labels):
        y = header + row * cell_height
        parts.append(
            f'<text class="axis-label" x="{label_width - 8}" y="{y + 19}" '
            f'text-anchor="end">{_text(_shorten(label, 30))}</text>'
        )
        for col, cell in enumerate(cells[row]):
            x = label_width + col * cell_width
            name = f"{label}, {column_labels[col]}"
            if cell.suppressed:
                why = gettext(
                    "%(cell)s: suppressed (fewer than the anonymity threshold, or hidden to "
                    "protect another cell)",
                    cell=name,
                )
                mark = _text(gettext("supp."))
                parts.append(
                    f'<g class="heat-cell"><title>{_text(why)}</title>'
                    f'<rect class="heat-suppressed" fill="url(#{chart_id}-hatch)" x="{x + 1}" '
                    f'y="{y + 1}" width="{cell_width - 2}" height="{cell_height - 2}"/>'
                    f'<text class="heat-text heat-text-suppressed" x="{x + cell_width / 2:.0f}" '
                    f'y="{y + 19}" text-anchor="middle">{mark}</text></g>'
                )
            else:
                level = _heat_class(cell.risk or 0.0)
                what = ngettext(
                    "%(cell)s: %(num)d report", "%(cell)s: %(num)d reports", cell.value, cell=name
                )
                if cell.risk is not None:
                    what = gettext(
                        "%(reports)s, mean risk %(risk)s",
                        reports=what,
                        risk=format_decimal(cell.risk, format="0.00"),
                    )
                parts.append(
                    f'<g class="heat-cell"><title>{_text(what)}</title>'
                    f'<rect class="{level}" x="{x + 1}" y="{y + 1}" width="{cell_width - 2}" '
                    f'height="{cell_height - 2}"/>'
                    f'<text class="heat-text {level}-text" x="{x + cell_width / 2:.0f}" '
                    f'y="{y + 19}" text-anchor="middle">{cell.value}</text></g>'
                )
    parts.append("</svg>")
    # Every text and label above went through _text (escaped); numbers are formatted here.
    return Markup("".join(parts))  # noqa: S704


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | None]]],
) -> Markup:
    """One line per series; a suppressed point breaks the line and is marked on the axis."""
    width, height = 720, 300
    left, right, top, bottom = 50, 170, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((v for _, values in series for v in values if v is not None), default=0)
    y_max = max(5, _nice_ceiling(highest))
    step = plot_w / max(1, len(x_labels) - 1) if len(x_labels) > 1 else 0

    def point(index: int, value: int) -> tuple[float, float]:
        x = left + (index * step if len(x_labels) > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * value / y_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart lines" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(description)}</desc>',
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
    ]
    for tick in range(0, 5):
        value = y_max * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" '
            f'y2="{y:.1f}"/><text class="axis-label" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{value:.0f}</text>'
        )
    for index, label in enumerate(x_labels):
        x, _ = point(index, 0)
        parts.append(
            f'<text class="axis-label" x="{x:.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle">{_text(label)}</text>'
        )
    for number, (name, values) in enumerate(series):
        css = f"series-{number % SERIES_CLASSES}"
        parts.append(f'<g class="series {css}"><title>{_text(name)}</title>')
        for run in _runs(values):
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, values[i]) for i in run))
            if len(run) > 1:
                parts.append(f'<polyline class="line" points="{coords}"/>')
        for index, value in enumerate(values):
            if value is None:
                x, y = point(index, 0)
                hidden = gettext(
                    "%(series)s, %(period)s: suppressed", series=name, period=x_labels[index]
                )
                parts.append(
                    f'<text class="suppressed-mark" x="{x:.1f}" y="{y - 4:.1f}" '
                    f'text-anchor="middle"><title>{_text(hidden)}</title>×</text>'
                )
            else:
                x, y = point(index, value)
                shown = ngettext(
                    "%(series)s, %(period)s: %(num)d report",
                    "%(series)s, %(period)s: %(num)d reports",
                    value,
                    series=name,
                    period=x_labels[index],
                )
                parts.append(
                    f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                    f"<title>{_text(shown)}</title></circle>"
                )
        legend_y = top + 14 + number * 18
        parts.append(
            f'<line class="line" x1="{width - right + 14}" y1="{legend_y - 4}" '
            f'x2="{width - right + 34}" y2="{legend_y - 4}"/>'
            f'<text class="legend" x="{width - right + 40}" y="{legend_y}">'
            f"{_text(name)}</text></g>"
        )
    legend = _text(gettext("× suppressed"))
    parts.append(f'<text class="legend" x="{left}" y="{height - 4}">{legend}</text>')
    parts.append("</svg>")
    # Every text and label above went through _text (escaped); numbers are formatted here.
    return Markup("".join(parts))  # noqa: S704


def _runs(values: Sequence[int | None]) -> list[list[int]]:
    """Indexes of consecutive shown values: a line never bridges a suppressed point."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(index)
    if current:
        runs.append(current)
    return runs


def _nice_ceiling(value: float) -> int:
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return int(value * 1.1) + 1


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _hatch_pattern(chart_id: str) -> str:
    return (
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" '
        f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect class="hatch-bg" width="6" height="6"/>'
        f'<line class="hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>'
    )
