"""Server-drawn SVG charts for the dashboard: bars (grouped or stacked) and lines, with a
y axis of round steps, thinned x labels and a tooltip per mark. No script and no style
attribute: colours come from classes in static/css/app.css, so the page keeps a strict CSP.
The numbers of every chart are also in a table beside it."""

import math
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
MAX_X_LABELS = 8


def nice_step(top, steps=4):
    """A round step (1, 2 or 5 times a power of ten) so that `steps` of it cover `top`."""
    if top <= 0:
        return 1
    raw = top / steps
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def short_number(value, kind):
    if kind == "percent":
        return f"{value * 100:.0f}%"
    value = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def full_number(value, kind):
    if kind == "percent":
        return f"{value * 100:.2f}%"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    return f"{value:,}"


class Frame:
    """The plot area and its y scale from 0 to a round top above `highest`."""

    def __init__(self, count, highest, kind):
        self.count = max(count, 1)
        self.kind = kind
        if not highest:
            step = 0.25 if kind == "percent" else 1
        else:
            step = nice_step(float(highest))
            if kind == "percent":
                step = max(step, 0.05)
            elif kind == "count":
                step = max(step, 1)
        self.top = step * max(1, math.ceil(float(highest) / step)) if highest else step * 4
        self.step = step
        self.width = WIDTH - LEFT - RIGHT
        self.height = HEIGHT - TOP - BOTTOM
        self.slot = self.width / self.count

    def y(self, value):
        return TOP + self.height - self.height * float(value) / self.top

    def x(self, index):
        return LEFT + self.slot * index

    def axes(self, labels):
        parts = []
        ticks = int(round(self.top / self.step))
        for tick in range(ticks + 1):
            value = self.step * tick
            y = self.y(value)
            parts.append(
                format_html(
                    '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                    '<text class="chart-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                    LEFT,
                    WIDTH - RIGHT,
                    f"{y:.1f}",
                    f"{y:.1f}",
                    LEFT - 6,
                    f"{y + 4:.1f}",
                    short_number(value, self.kind),
                )
            )
        every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
        for index, label in enumerate(labels):
            if index % every:
                continue
            parts.append(
                format_html(
                    '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{self.x(index) + self.slot / 2:.1f}",
                    HEIGHT - 8,
                    label,
                )
            )
        parts.append(
            format_html(
                '<line class="chart-baseline" x1="{}" x2="{}" y1="{}" y2="{}"/>',
                LEFT,
                WIDTH - RIGHT,
                TOP + self.height,
                TOP + self.height,
            )
        )
        return mark_safe("".join(parts))


def svg(title, body):
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>{}</svg>',
        WIDTH,
        HEIGHT,
        title,
        title,
        body,
    )


def bar_chart(title, labels, series, *, kind="count", stacked=False):
    """`series`: [(name, values, css class)], one value per label."""
    if stacked:
        highest = max((sum(values) for values in zip(*(s[1] for s in series), strict=True)), default=0)
    else:
        highest = max((value for _, values, _ in series for value in values), default=0)
    frame = Frame(len(labels), highest, kind)
    lanes = 1 if stacked else len(series)
    bar_width = frame.slot * 0.72 / lanes
    marks = []
    bases = [0] * len(labels)
    for lane, (name, values, css) in enumerate(series):
        for index, value in enumerate(values):
            low = bases[index] if stacked else 0
            high = low + value
            x = frame.x(index) + frame.slot * 0.14 + (0 if stacked else lane * bar_width)
            y_top, y_bottom = frame.y(high), frame.y(low)
            marks.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>',
                    css,
                    f"{x:.1f}",
                    f"{y_top:.1f}",
                    f"{max(bar_width - 1, 1):.1f}",
                    f"{max(y_bottom - y_top, 0):.1f}",
                    labels[index],
                    full_number(value, kind),
                    name,
                )
            )
            if stacked:
                bases[index] = high
    return svg(title, mark_safe(frame.axes(labels) + "".join(marks)))


def line_chart(title, labels, series, *, kind="count"):
    """`series`: [(name, values, css class)]; a value of None leaves a gap."""
    highest = max((value for _, values, _ in series for value in values if value is not None), default=0)
    frame = Frame(len(labels), highest, kind)
    parts = [frame.axes(labels)]
    for name, values, css in series:
        points = [
            (frame.x(index) + frame.slot / 2, frame.y(value), labels[index], value)
            for index, value in enumerate(values)
            if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            parts.append(format_html('<polyline class="{} chart-line" points="{}"/>', css, path))
        parts.append(
            format_html_join(
                "",
                '<circle class="{} chart-dot" cx="{}" cy="{}" r="3"><title>{}: {} {}</title></circle>',
                (
                    (css, f"{x:.1f}", f"{y:.1f}", label, full_number(value, kind), name)
                    for x, y, label, value in points
                ),
            )
        )
    return svg(title, mark_safe("".join(parts)))
