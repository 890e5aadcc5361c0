"""Small charts drawn on the server as inline SVG: crisp at any size, no script, nothing fetched, and a few
microseconds each (a PNG from matplotlib costs tens of milliseconds a page). Every chart has a title and
a text alternative, and the figures are in a table beside it for readers who cannot see it."""

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

WIDTH = 640
BAR = 22


def bars(
    labels: Sequence[str], values: Sequence[float], title: str, fmt: Callable[[float], str] = "{:+.2f}".format
) -> Markup:
    """Horizontal bars from a zero line: positive to the right (red), negative to the left (blue), each with
    its value written beside it by `fmt`."""
    if not values:
        return Markup("")
    height = BAR * len(values) + 10
    scale = max(abs(v) for v in values) or 1.0
    negative = any(v < 0 for v in values)
    mid = WIDTH * (0.5 if negative else 0.4)
    half = WIDTH * (0.3 if negative else 0.45)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{mid}" y1="0" x2="{mid}" y2="{height}" stroke="#888" stroke-width="1"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + i * BAR
        length = half * abs(value) / scale
        x = mid if value >= 0 else mid - length
        colour = "#c0392b" if value >= 0 else "#2e6da4"
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="{BAR - 6}" fill="{colour}"/>'
        )
        label_x, anchor = (mid - 6, "end") if value >= 0 else (mid + 6, "start")
        parts.append(
            f'<text x="{label_x:.1f}" y="{y + BAR - 10}" font-size="12" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
        parts.append(
            f'<text x="{x + length + 4 if value >= 0 else x - 4:.1f}" y="{y + BAR - 10}" font-size="11" '
            f'text-anchor="{"start" if value >= 0 else "end"}">{escape(fmt(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(labels: Sequence[str], values: Sequence[float], title: str, marks: Sequence[bool] = ()) -> Markup:
    """Vertical columns over labelled periods (a month each), the marked ones outlined in red."""
    if not values:
        return Markup("")
    height, base, top = 180, 150, 10
    step = min(WIDTH / max(len(values), 1), 48.0)
    scale = max(values) or 1.0
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#888" stroke-width="1"/>',
    ]
    every = max(1, len(labels) // 8)
    for i, value in enumerate(values):
        h = (base - top) * max(value, 0) / scale
        marked = i < len(marks) and marks[i]
        stroke = ' stroke="#c0392b" stroke-width="2"' if marked else ""
        parts.append(
            f'<rect x="{i * step + 1:.1f}" y="{base - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" '
            f'fill="#4a7fb5"{stroke}><title>{escape(labels[i])}: {value:,.0f}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{i * step + step / 2:.1f}" y="{height - 12}" font-size="10" text-anchor="middle">'
                f"{escape(labels[i])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_columns(
    labels: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    names: tuple[str, str],
    title: str,
    marks: Sequence[bool] = (),
) -> Markup:
    """Two columns per period (e.g. imports beside exports), the marked periods' second column outlined."""
    if not labels:
        return Markup("")
    height, base, top = 200, 150, 24
    step = min(WIDTH / len(labels), 48.0)
    scale = max([*first, *second, 0.0]) or 1.0
    colours = ("#4a7fb5", "#c0392b")
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#888" stroke-width="1"/>',
    ]
    for k, name in enumerate(names):
        parts.append(f'<rect x="{4 + k * 260}" y="4" width="10" height="10" fill="{colours[k]}"/>')
        parts.append(f'<text x="{18 + k * 260}" y="13" font-size="11">{escape(name)}</text>')
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        for k, value in enumerate((first[i], second[i])):
            h = (base - top) * max(value, 0.0) / scale
            marked = k == 1 and i < len(marks) and marks[i]
            stroke = ' stroke="#000" stroke-width="2"' if marked else ""
            parts.append(
                f'<rect x="{i * step + k * step / 2:.1f}" y="{base - h:.1f}" '
                f'width="{max(step / 2 - 1, 0.5):.1f}" '
                f'height="{h:.1f}" fill="{colours[k]}"{stroke}><title>{escape(label)} {escape(names[k])}: '
                f"${value:,.0f}{' (jump)' if marked else ''}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{i * step + step / 2:.1f}" y="{height - 30}" font-size="10" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
