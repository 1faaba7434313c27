"""Completion by PAPI dimension and by child unit, as a PNG (matplotlib, Agg, no pyplot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.reports.text import dimension_name, number, period_title
from kernel.i18n import _
from storage.rollup import UNCLASSIFIED, Rollup

MIN_HEIGHT_IN = 3.4
MAX_BARS = 40  # a province may have 100+ communes: show the ones furthest behind
LABEL_CHARS = 38


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def chart_series(result: Rollup) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(dimension label, completion %) for dimensions with tasks, weakest score first, and
    (unit name, completion %) for child units with tasks, lowest first, at most MAX_BARS."""
    dims = [
        (_label(dimension_name(row.code)), row.counts.completion)
        for row in result.focus_dimensions()
        if row.code != UNCLASSIFIED
    ]
    units = sorted(
        ((_label(u.name), u.counts.completion) for u in result.children if u.counts.total),
        key=lambda pair: (pair[1], pair[0]),
    )[:MAX_BARS]
    return dims, units


def _bars(axes: object, series: list[tuple[str, float]], title: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(axes, Axes)
    labels = [label for label, _value in series][::-1]
    values = [value for _label_, value in series][::-1]
    axes.barh(labels, values, color="#2F6EBA")
    axes.set_xlim(0, 100)
    axes.set_title(title, fontsize=11)
    axes.set_xlabel(_("Completion (%)"))
    for position, value in enumerate(values):
        axes.text(min(value + 1, 92), position, number(value), va="center", fontsize=8)
    if not series:  # an empty panel: the message alone, no axis to collide with the titles
        axes.set_axis_off()
        axes.text(0.5, 0.5, _("No tasks"), ha="center", va="center", transform=axes.transAxes)


def build_figure(result: Rollup) -> Any:
    """The chart as a matplotlib Figure (labels in the current locale)."""
    # matplotlib takes about a second to import: load it when a chart is drawn, not when the
    # bot or any CLI command starts.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    dims, units = chart_series(result)
    rows = max(len(dims), 1) + max(len(units), 1)
    # Room for the three titles even when the panels are empty (they overprinted before).
    height = max(MIN_HEIGHT_IN, 1.6 + 0.32 * rows)
    figure = Figure(figsize=(9, height), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(
        2, 1, height_ratios=[max(len(dims), 1), max(len(units), 1)], squeeze=True
    )
    figure.suptitle(
        _("%(unit)s — %(period)s")
        % {"unit": result.unit.name, "period": period_title(result.period)}
    )
    _bars(top, dims, _("Completion by PAPI dimension"))
    _bars(bottom, units, _("Completion by unit"))
    return figure


def write_chart(result: Rollup, path: Path) -> Path:
    """Write the PNG (labels in the current locale) and return its path."""
    figure = build_figure(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
