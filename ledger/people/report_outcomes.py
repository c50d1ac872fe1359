"""The "Did it work?" section of the HTML report: the outcomes document (SPEC.md 12.12) as
an inline SVG chart and tables. Every figure is the document's own (integers, or display
strings of exact fractions); chart geometry is computed with integers and Fractions and
rounded to whole pixels, so nothing here uses a binary float."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from .escape import esc

ATTRIBUTED, UNATTRIBUTED, BASELINE, MEASURED, NAMED, DISMANTLED = "#0072B2", "#999999", "#D55E00", "#E69F00", "#8a1c1c", "#009E73"
WINDOWS = (("before", "before naming"), ("active", "while active"), ("after", "after dismantling"))


def _y(value: Fraction, top: Fraction, height: int) -> int:
    return height if top == 0 else height - int(round(value * height / top))


def _x_of_day(periods: list[dict[str, Any]], day: str, left: int, step: int) -> int | None:
    """The x of a day inside the period that contains it (None when outside the chart)."""
    for i, p in enumerate(periods):
        if p["start"] <= day <= p["end"]:
            return left + i * step + step // 2
    return None


def outcomes_chart(doc: dict[str, Any], chart_id: str, rounds: list[dict[str, Any]]) -> str:
    """Victims per period (attributed and unattributed, stacked); with a baseline, its measure
    per period (a line) and the level it expects (dashed); each round's naming and dismantling."""
    periods = doc["periods"]
    left, plot_w, plot_h, top_pad, bottom = 60, 840, 220, 14, 46
    step = max(4, plot_w // max(1, len(periods)))
    width, height = left + step * len(periods) + 20, top_pad + plot_h + bottom
    base = doc["baseline"]
    expected = [Fraction(p["baseline"]["expected"]["exact"]) for p in periods] if base is not None else []
    measured = [Fraction(p["baseline"]["count"]) for p in periods] if base is not None else []
    top = max([Fraction(p["all"]["victims"]) for p in periods] + expected + measured + [Fraction(1)])
    out = [f'<svg id="{esc(chart_id)}" class="chart" role="img" aria-labelledby="{esc(chart_id)}-t" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{esc(chart_id)}-t">Victims per {esc(doc["period"])}, attributed and unattributed</title>',
           f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 10}" y2="{top_pad + plot_h}" stroke="#1b1b1b"/>',
           f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end">{top.numerator // top.denominator}</text>',
           f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end">0</text>']
    bar = max(2, step - 2)
    for i, p in enumerate(periods):
        x = left + i * step + 1
        shown = Fraction(0)
        for part, colour in (("attributed", ATTRIBUTED), ("unattributed", UNATTRIBUTED)):
            value = Fraction(p[part]["victims"])
            y0, y1 = _y(shown, top, plot_h), _y(shown + value, top, plot_h)
            shown += value
            if y0 > y1:
                out.append(f'<rect class="period" data-period="{esc(p["period"])}" data-part="{part}" x="{x}" y="{top_pad + y1}" '
                           f'width="{bar}" height="{y0 - y1}" fill="{colour}"><title>{esc(p["period"])}: {p[part]["victims"]} victims '
                           f'{part} ({p[part]["incidents"]} incidents)</title></rect>')
        if i % max(1, len(periods) // 12) == 0:
            out.append(f'<text x="{x}" y="{top_pad + plot_h + 14}">{esc(p["period"])}</text>')
    if base is not None:
        what = f'{base["measure"]} of {", ".join(base["kinds"])} per {doc["period"]}'
        for series, colour, dash, name, label in ((measured, MEASURED, "", "measured", f"{what}, recorded"),
                                                  (expected, BASELINE, ' stroke-dasharray="6 3"', "baseline", f"{what} at the step-7 baseline")):
            points = " ".join(f"{left + i * step + step // 2},{top_pad + _y(v, top, plot_h)}" for i, v in enumerate(series))
            out.append(f'<polyline id="{esc(chart_id)}-{name}" points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}>'
                       f'<title>{esc(label)}</title></polyline>')
    for r in rounds:
        for day, colour, what in ((r["named"], NAMED, "named"), (r["dismantled"], DISMANTLED, "dismantled")):
            x = None if day is None else _x_of_day(periods, day, left, step)
            if x is not None:
                out.append(f'<line class="marker" x1="{x}" y1="{top_pad}" x2="{x}" y2="{top_pad + plot_h}" stroke="{colour}" stroke-width="2">'
                           f'<title>Round {r["round"]}: {esc(r["target"])} {what} on {esc(day)}</title></line>'
                           f'<text x="{x + 3}" y="{top_pad + plot_h + 30}" fill="{colour}">R{r["round"]} {what}</text>')
    out.append("</svg>")
    return "".join(out)


def _legend(base: dict[str, Any] | None) -> str:
    items = [(ATTRIBUTED, "victims, attributed"), (UNATTRIBUTED, "victims, unattributed"), (NAMED, "target named"),
             (DISMANTLED, "target dismantled")]
    if base is not None:
        what = f'{base["measure"]} of {", ".join(base["kinds"])}'
        items += [(MEASURED, f"{what} (line)"), (BASELINE, f"{what} at the step-7 baseline (dashed)")]
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>' for c, n in items) + "</div>"


def windows_table(r: dict[str, Any]) -> str:
    """One round's target, others and unattributed before naming, while active and after."""
    out = [f'<table class="outcome-windows" id="outcome-round-{r["round"]}"><thead><tr><th>Round {r["round"]}: {esc(r["target"])}</th>'
           '<th>Dates</th><th class="num">Days</th><th class="num">Target</th><th class="num">Others</th>'
           '<th class="num">Unattributed</th><th class="num">All</th></tr></thead><tbody>']
    for key, label in WINDOWS:
        w = r["windows"][key]
        if w is None:
            continue
        cells = "".join(f'<td class="num">{w[g]["incidents"]} / {w[g]["victims"]}</td>' for g in ("target", "others", "unattributed", "all"))
        out.append(f'<tr><td>{esc(label)}</td><td>{esc(w["start"])} to {esc(w["end"])}</td><td class="num">{w["days"]}</td>{cells}</tr>')
    out.append("</tbody></table>")
    for key, label in WINDOWS[1:]:
        change = r["change"][key]
        if change is not None:
            out.append(f'<p class="note">Victims per day {esc(label)}, over before naming: '
                       + ", ".join(f'{g} {esc(change[g]["ratio"] or "n/a")}' for g in ("target", "others", "all")) + ".</p>")
    return "".join(out)


def baseline_text(doc: dict[str, Any]) -> str:
    base = doc["baseline"]
    if base is None:
        return '<p id="outcome-baseline">No step-7 baseline has been recorded (an <code>outcome.baseline</code> entry signed by the panel).</p>'
    level = (f'{esc(base["level"]["value"])} per {esc(base["level"]["per"])}' if base["level"] is not None else
             f'what the ledger records from {esc(base["reference"]["start"])} to {esc(base["reference"]["end"])}')
    out = [f'<p id="outcome-baseline">Step-7 baseline (entry {base["seq"]}): {esc(base["measure"])} of {esc(", ".join(base["kinds"]))}, '
           f'{level}, that is {esc(base["per_day"]["value"])} a day. <q>{esc(base["justification"])}</q></p>']
    if base["replaces"]:  # a moved goal is never silent (SPEC.md 10.8, notice)
        out.append(f'<p id="outcome-baseline-replaced">It replaces the baseline of entries '
                   f'{", ".join(map(str, base["replaces"]))}: the panel changed the level to return to.</p>')
    s = base["standing"]
    if s is not None:
        where = "n/a" if s["at_or_below"] is None else ("at or below the baseline" if s["at_or_below"] else "above the baseline")
        out.append(f'<p id="outcome-standing"><b>The whole industry, {esc(s["start"])} to {esc(s["end"])}: {s["count"]} against '
                   f'{esc(s["expected"]["value"])} expected, ratio {esc(s["ratio"] or "n/a")}: {where}.</b></p>')
    return "".join(out)


def outcomes_section(doc: dict[str, Any], digest: str, number: int | None = None) -> str:
    """The report's "Did it work?" section: every round's target (or only round ``number``'s)."""
    rounds = [r for r in doc["rounds"] if number is None or r["round"] == number]
    counts = doc["counts"]
    p = ['<h2 id="outcomes">Did it work? Violence before and after</h2>',
         f'<p class="note">Outcomes, not scores: incidents and victims (best counts) of every incident the ledger holds up to entry '
         f'{doc["through"]}, attributed or not, counted by a round or not ({counts["incidents"]} incidents, {counts["unattributed"]} '
         f'unattributed; {counts["retracted"]} retracted and left out). Before naming is a window as long as the target was active.</p>',
         _legend(doc["baseline"]),
         outcomes_chart(doc, "chart-outcomes" if number is None else f"chart-outcomes-{number}", rounds)]
    if not rounds:
        p.append("<p>No round with a target to follow" + (" in this round." if number is not None else ".") + "</p>")
    p.extend(windows_table(r) for r in rounds)
    p.append(baseline_text(doc))
    p.append(f'<p class="note">Outcomes digest (SHA-256 of the outcomes document): <span class="mono" id="outcomes-digest">{esc(digest)}</span></p>')
    return "".join(p)
