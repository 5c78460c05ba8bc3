"""Charts drawn on the server as inline SVG: pure functions, no Django, no JavaScript.

Each function returns the markup of one `<svg role="img">` whose accessible name is its
`<title>` and whose description (`<desc>`) says what it shows; the page puts a table with the
same numbers beside every chart, so nothing is only in the picture. The Content Security Policy
forbids inline `style` attributes, so only SVG presentation attributes are used (`fill`,
`stroke`, `stroke-dasharray`); sizing comes from `.app-chart` in `assets/scss/`.

Meaning never rests on colour alone: the series of a line chart differ in dash pattern as well
as colour and are named in a legend that draws each one's line; bars carry their value as text.
The colours have at least 3:1 contrast against white (text 4.5:1).

Every text is escaped here, so the markup is safe to insert into a page as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

INK = "#0b0c0c"  # text and axes: 19:1 on white
GRID = "#b1b4b6"  # gridlines: decoration only
BLUE = "#1d70b8"  # 5.2:1 on white
WIDTH = 640  # line and column charts, in the chart's own units
BAR_WIDTH = 480  # bar charts, which sit beside their table
FONT = 14  # px, in the chart's own units


class Svg(str):
    """SVG markup, every text in it escaped as it was built: a template inserts it as it is
    (Jinja2 honours `__html__`)."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Series:
    """One line of a line chart."""

    name: str
    values: Sequence[float]


# (colour, dash pattern) for the first, second, third series: each differs from the others in
# both, so the lines can be told apart in black and white too.
LINE_STYLES: tuple[tuple[str, str], ...] = (
    (BLUE, ""),
    (INK, "10 6"),
    ("#4c2c92", "3 4"),  # purple, 10:1
)


def scale(most: float, steps: int = 5) -> tuple[int, int]:
    """The top of a value axis and its step: the smallest whole 1, 2, 2.5 or 5 times a power of
    ten (these are counts) that reaches `most` in at most `steps` steps."""
    most = max(most, 1)
    power = 1
    while True:
        for base in (1, 2, 2.5, 5):
            step = base * power
            if step == int(step) and math.ceil(most / step) <= steps:
                return int(step) * math.ceil(most / step), int(step)
        power *= 10


def number(value: float) -> str:
    """A number as a chart label: whole numbers without a decimal point, thousands separated."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def spread(count: int, most: int) -> list[int]:
    """At most `most` indexes of `count` points, evenly spread, the first and last always."""
    if count <= most:
        return list(range(count))
    step = (count - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


def _svg(
    ident: str, title: str, summary: str, height: int, body: list[str], *, width: int = WIDTH
) -> Svg:
    kind = "app-chart app-chart--bars" if width == BAR_WIDTH else "app-chart"
    markup = "\n".join(
        [
            f'<svg class="{kind}" role="img" viewBox="0 0 {width} {height}" '
            f'aria-labelledby="{escape(ident)}-title {escape(ident)}-desc" focusable="false" '
            f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT}">',
            f'<title id="{escape(ident)}-title">{escape(title)}</title>',
            f'<desc id="{escape(ident)}-desc">{escape(summary)}</desc>',
            *body,
            "</svg>",
        ]
    )
    return Svg(markup)


def _text(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{INK}">{escape(text)}</text>'
    )


def _shorten(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _empty(ident: str, title: str, summary: str) -> Svg:
    return _svg(ident, title, summary, 80, [_text(WIDTH / 2, 45, "No figures yet", "middle")])


def _y_axis(
    left: float, right: float, top_y: float, bottom_y: float, top: float, step: float
) -> list[str]:
    """Horizontal gridlines with their values, and the baseline."""
    parts = []
    for index in range(round(top / step) + 1):
        value = index * step
        y = bottom_y - (bottom_y - top_y) * value / top
        colour = INK if value == 0 else GRID
        parts.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}" stroke-width="1"/>'
        )
        parts.append(_text(left - 6, y + FONT / 3, number(value), "end"))
    return parts


def bar_chart(*, ident: str, title: str, summary: str, bars: Sequence[tuple[str, float]]) -> Svg:
    """Horizontal bars, one a row, each labelled on the left (on two lines if long) and with its
    value as text at its end. Narrower than the other charts, to sit beside its table."""
    if not bars:
        return _empty(ident, title, summary)
    label_width, row, top = 200, 40, 6
    right = BAR_WIDTH - 48
    most = max(value for _, value in bars) or 1
    height = top + row * len(bars) + 6
    body = []
    for index, (label, value) in enumerate(bars):
        middle = top + index * row + row / 2
        lines = _wrap(label, 26)
        for n, line in enumerate(lines):
            y = middle + FONT / 3 + (n - (len(lines) - 1) / 2) * (FONT + 2)
            body.append(_text(label_width - 8, y, line, "end"))
        length = (right - label_width) * value / most
        if length > 0:
            body.append(
                f'<rect x="{label_width}" y="{middle - 11:.1f}" width="{length:.1f}" '
                f'height="22" fill="{BLUE}"/>'
            )
        body.append(_text(label_width + length + 6, middle + FONT / 3, number(value)))
    body.append(
        f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - 6}" '
        f'stroke="{INK}" stroke-width="1"/>'
    )
    return _svg(ident, title, summary, height, body, width=BAR_WIDTH)


def _wrap(text: str, most: int) -> list[str]:
    """A label on one line, or two (the second shortened if it must be)."""
    if len(text) <= most:
        return [text]
    cut = text.rfind(" ", 0, most + 1)
    if cut <= 0:
        return [_shorten(text, most)]
    return [text[:cut], _shorten(text[cut + 1 :], most)]


def column_chart(
    *, ident: str, title: str, summary: str, columns: Sequence[tuple[str, float]]
) -> Svg:
    """Vertical columns over time (or any order), with a value axis and spread-out labels."""
    if not columns:
        return _empty(ident, title, summary)
    left, right, top_y, bottom_y = 56, WIDTH - 16, 16, 250
    height = bottom_y + 40
    top, step = scale(max(value for _, value in columns))
    body = _y_axis(left, right, top_y, bottom_y, top, step)
    slot = (right - left) / len(columns)
    width = max(1.0, slot * 0.7)
    for index, (_, value) in enumerate(columns):
        bar = (bottom_y - top_y) * value / top
        x = left + index * slot + (slot - width) / 2
        if bar > 0:
            body.append(
                f'<rect x="{x:.1f}" y="{bottom_y - bar:.1f}" width="{width:.1f}" '
                f'height="{bar:.1f}" fill="{BLUE}"/>'
            )
        if slot >= 28 and value:
            body.append(_text(x + width / 2, bottom_y - bar - 4, number(value), "middle"))
    for index in spread(len(columns), 6):
        x = left + index * slot + slot / 2
        body.append(_text(x, bottom_y + 22, columns[index][0], "middle"))
    return _svg(ident, title, summary, height, body)


def line_chart(
    *, ident: str, title: str, summary: str, labels: Sequence[str], series: Sequence[Series]
) -> Svg:
    """Lines over time: a legend drawing each series' line, a value axis, dated labels."""
    if not labels or not series:
        return _empty(ident, title, summary)
    if len(series) > len(LINE_STYLES):
        raise ValueError(f"at most {len(LINE_STYLES)} series")
    if any(len(s.values) != len(labels) for s in series):
        raise ValueError("every series needs one value per label")
    left, right, top_y, bottom_y = 56, WIDTH - 16, 44, 270
    height = bottom_y + 40
    top, step = scale(max((max(s.values, default=0) for s in series), default=0))
    body = []
    x = left
    for (colour, dash), line in zip(LINE_STYLES, series, strict=False):
        body.append(_line_sample(x, 16, colour, dash))
        body.append(_text(x + 40, 16 + FONT / 3, line.name))
        x += 40 + 8 * len(line.name) + 30
    body += _y_axis(left, right, top_y, bottom_y, top, step)

    def at(index: int) -> float:
        if len(labels) == 1:
            return (left + right) / 2
        return left + (right - left) * index / (len(labels) - 1)

    for (colour, dash), line in zip(LINE_STYLES, series, strict=False):
        points = " ".join(
            f"{at(i):.1f},{bottom_y - (bottom_y - top_y) * value / top:.1f}"
            for i, value in enumerate(line.values)
        )
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        if len(labels) == 1:
            y = bottom_y - (bottom_y - top_y) * line.values[0] / top
            body.append(f'<circle cx="{at(0):.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
        body.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="3" '
            f'stroke-linejoin="round"{dashes}/>'
        )
    for index in spread(len(labels), 6):
        anchor = "start" if index == 0 else "end" if index == len(labels) - 1 else "middle"
        body.append(_text(at(index), bottom_y + 22, labels[index], anchor))
    return _svg(ident, title, summary, height, body)


def _line_sample(x: float, y: float, colour: str, dash: str) -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + 32:.1f}" y2="{y:.1f}" stroke="{colour}" '
        f'stroke-width="3"{dashes}/>'
    )
