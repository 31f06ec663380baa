"""The human-readable rendering of a data export (report.html in its ZIP): one table per
section, built as plain strings (a template engine takes seconds over 10,000 orders)."""

from html import escape

README = """Export {export_id} ({type}) of the data {business} holds about you, made {generated_at}.

data.json   everything, machine-readable (JSON; one top-level key per kind of data)
report.html the same, to read in a browser
"""

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top;font-size:13px}"
    "th{background:#f3f4f6}"
)


def text(value):
    if isinstance(value, str):
        return escape(value) if value else "—"
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return escape(
            ", ".join(f"{k}: {v}" for k, v in value.items())
            if isinstance(value, dict)
            else ", ".join(str(v) for v in value)
        )
    return escape(str(value))


def table(rows):
    if not rows:
        return "<p>None.</p>"
    if not isinstance(rows[0], dict):
        return "<p>" + escape(", ".join(str(row) for row in rows)) + "</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{text(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def section(value):
    if isinstance(value, list):
        return table(value)
    if isinstance(value, dict):
        parts = []
        for key, inner in value.items():
            if isinstance(inner, list | dict) and inner and not all(isinstance(v, str | int) for v in inner):
                parts.append(f"<h3>{escape(key)}</h3>{section(inner)}")
            else:
                parts.append(f"<tr><th>{escape(key)}</th><td>{text(inner)}</td></tr>")
        rows = "".join(part for part in parts if part.startswith("<tr>"))
        nested = "".join(part for part in parts if not part.startswith("<tr>"))
        return (f"<table>{rows}</table>" if rows else "") + nested
    return f"<p>{text(value)}</p>"


def render(data, meta):
    title = f"Your data at {escape(str(meta['business']))}"
    parts = [f"<!doctype html><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style>"]
    parts.append(
        f"<h1>{title}</h1><p>Export {meta['export_id']} ({escape(meta['type'])}), {meta['generated_at']}</p>"
    )
    for name, value in data.items():
        parts.append(f"<h2>{escape(name.replace('_', ' ').capitalize())}</h2>{section(value)}")
    return "".join(parts)
