"""Self-contained HTML reports of rounds, for journalists and the public (``ledger report``).

One file per round: inline CSS and inline SVG, no script, no external asset, so it opens
offline and can be archived as it is. Every string that comes from the ledger goes through
:func:`esc` (HTML escaping of ``& < > " '``), including inside SVG ``<title>`` and
attribute values. Every figure is the replay engine's own output (display strings of
exact fractions); chart geometry is computed from exact fractions and rounded to whole
pixels, so the report has no binary floats either.
"""

from __future__ import annotations

import shlex
from collections import Counter
from fractions import Fraction
from typing import Any, Sequence

from .. import __version__
from ..app.snapshot import Snapshot
from ..scoring.process import round_notices
from ..scoring.rules import parse_decimal
from ..scoring.types import BASES, CONFIDENCES, FEATURES, KINDS, ROLES
from .escape import esc
from .report_outcomes import outcomes_section

# Okabe-Ito (colour-blind safe) and a few extensions.
KIND_COLOURS = dict(zip(KINDS, ["#D55E00", "#E69F00", "#CC79A7", "#0072B2", "#56B4E9", "#009E73", "#999999"]))
ROLE_COLOURS = dict(zip(ROLES, ["#999999", "#E69F00", "#0072B2", "#004D80", "#D55E00", "#009E73", "#CC79A7", "#DDDDDD"]))
FEATURE_SEGMENT = "aggravating_features"  # the feature cells of a row (SPEC.md 12.9), one segment in both charts
KIND_COLOURS[FEATURE_SEGMENT] = ROLE_COLOURS[FEATURE_SEGMENT] = "#4D4D4D"
FEATURE_MEANINGS = {
    "public_display": "the victims or their remains were displayed in public (terror: Kleiman's terroristic actions)",
    "torture": "victims were tortured or mutilated",
    "mass_killing": "a killing of 4 or more people (the victims' low counts)",
}
REASONS = {
    "recorded_after_close": "recorded after the round closed (backfilling never counts)",
    "recorded_before_open": "recorded before the round opened (only pre-registered rounds count)",
    "superseded": "an older version, superseded by an amendment",
    "retracted": "withdrawn by a retraction",
    "outside_window": "recorded during the round but dated outside its window",
    "too_few_sources": "fewer independent sources than the rules require",
    "unattributed": "no organization attributed",
    "ineligible_org": "attributed to an organization not eligible in this round",
    "dispute_upheld": "attribution voided by an upheld dispute (e.g. a false flag)",
    "contested": "attribution under an open dispute, which these rules exclude",
    "same_organization": "a second attribution to one organization (declared the same by the panel)",
}

CSS = """
:root{--fg:#1b1b1b;--muted:#5a5a5a;--line:#d6d6d6;--bg:#fff;--accent:#8a1c1c}
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:1100px;margin:0 auto;padding:1.5rem}h1{font-size:1.8rem;margin:.2rem 0}h2{font-size:1.3rem;margin-top:2.2rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
.sub{color:var(--muted);margin:0}.mono,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;overflow-wrap:anywhere}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:.8rem;margin:1rem 0}
.figure{border:1px solid var(--line);border-radius:6px;padding:.6rem .8rem}.figure b{display:block;font-size:1.25rem}.figure span{color:var(--muted);font-size:.85rem}
.ok{color:#0b6b2f}.bad{color:var(--accent);font-weight:bold}.warn{color:#8a5a00}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.92rem}th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tr.target td{background:#fff4f0;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;font-size:.85rem;margin:.3rem 0}.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;border:1px solid #0003}
svg{max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif;fill:#1b1b1b}
pre{background:#f5f5f5;border:1px solid var(--line);border-radius:4px;padding:.7rem;overflow-x:auto}
details{margin:.4rem 0}summary{cursor:pointer}.note{color:var(--muted);font-size:.9rem}
@media print{h2{break-after:avoid}details{display:block}}
"""


def _fraction(text: str) -> Fraction:
    num, _, den = text.partition("/")
    return Fraction(int(num), int(den or "1"))


def _px(value: Fraction, top: Fraction, width: int) -> int:
    return 0 if top == 0 else int(round(value * width / top))


def org_label(snapshot: Snapshot, org: str) -> str:
    record = snapshot.state.orgs.get(org)
    return record.name if record is not None else org


def stacked_chart(chart_id: str, title: str, rows: Sequence[tuple[str, str, list[tuple[str, Fraction]]]],
                  colours: dict[str, str], mark: str | None = None) -> str:
    """Horizontal stacked bars: rows of (org id, label, [(segment, value)]) -> inline SVG."""
    label_w, bar_w, row_h, gap = 230, 560, 22, 8
    total = {org: sum((v for _, v in segs), Fraction(0)) for org, _, segs in rows}
    top = max(total.values(), default=Fraction(0))
    height = len(rows) * (row_h + gap) + 10
    width = label_w + bar_w + 110
    out = [f'<svg id="{esc(chart_id)}" class="chart" role="img" aria-labelledby="{esc(chart_id)}-t" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{esc(chart_id)}-t">{esc(title)}</title>']
    for i, (org, label, segments) in enumerate(rows):
        y = 5 + i * (row_h + gap)
        weight = ' font-weight="bold"' if org == mark else ""
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end"{weight}>{esc(label)}</text>')
        cumulative = Fraction(0)
        for name, value in segments:
            if value == 0:
                continue
            x0 = _px(cumulative, top, bar_w)
            cumulative += value
            x1 = _px(cumulative, top, bar_w)
            if x1 == x0:
                continue
            out.append(f'<rect class="seg" data-org="{esc(org)}" data-part="{esc(name)}" x="{label_w + x0}" y="{y}" '
                       f'width="{x1 - x0}" height="{row_h}" fill="{colours.get(name, "#777")}">'
                       f'<title>{esc(label)}: {esc(name)} {esc(_show(value))}</title></rect>')
        end = _px(total[org], top, bar_w)
        out.append(f'<text x="{label_w + end + 6}" y="{y + 15}" class="val">{esc(_show(total[org]))}</text>')
    out.append("</svg>")
    return "".join(out)


def _show(value: Fraction) -> str:
    from ..scoring.rules import display

    return display(value, 2)


def legend(colours: dict[str, str], used: set[str]) -> str:
    items = "".join(f'<span><i style="background:{c}"></i>{esc(n.replace("_", " "))}</span>' for n, c in colours.items() if n in used)
    return f'<div class="legend">{items}</div>'


def _segments(row: dict[str, Any]) -> tuple[list[tuple[str, Fraction]], list[tuple[str, Fraction]]]:
    """(by element, by victim role) of one ranking row, scaled so that they sum to the score."""
    raw = _fraction(row["raw_exact"])
    score = _fraction(row["score_exact"])
    factor = Fraction(0) if raw == 0 else score / raw
    by_kind: dict[str, Fraction] = {}
    by_role: dict[str, Fraction] = {}
    for kind, roles in row["breakdown"].items():
        for role, cell in roles.items():
            value = _fraction(cell["exact"]) * factor
            by_kind[kind] = by_kind.get(kind, Fraction(0)) + value
            by_role[role] = by_role.get(role, Fraction(0)) + value
    for cell in row.get("features", {}).values():  # rules with features (12.3): the rest of raw
        value = _fraction(cell["exact"]) * factor
        by_kind[FEATURE_SEGMENT] = by_kind.get(FEATURE_SEGMENT, Fraction(0)) + value
        by_role[FEATURE_SEGMENT] = by_role.get(FEATURE_SEGMENT, Fraction(0)) + value
    return ([(k, by_kind[k]) for k in (*KINDS, FEATURE_SEGMENT) if k in by_kind],
            [(r, by_role[r]) for r in (*ROLES, FEATURE_SEGMENT) if r in by_role])


def _row(cells: Sequence[str], head: bool = False) -> str:
    tag = "th" if head else "td"
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def rules_section(body: dict[str, Any], version: int) -> str:
    """The committed rules (SPEC.md 10.7) as tables, with their name and notes as the
    rationale and what every member means."""
    p = [f'<h2 id="rules">The committed rules (version {version})</h2>',
         f'<p><b>{esc(body.get("name", ""))}</b></p>']
    if body.get("notes"):
        p.append(f'<p id="rules-rationale">Rationale, as the panel adopted it: <q>{esc(body["notes"])}</q></p>')
    p.append('<p class="note">Each counted incident contributes, to each organization it is attributed to: '
             '(the weight of its kind and victim role × the number of victims counted, summed over its victims'
             + (', plus the weight of each aggravating feature it carries' if "features" in body else "")
             + ') × the confidence multiplier × the basis multiplier × the contested factor (1 unless the attribution is '
             'under an open dispute) × the share (1, or 1/number of organizations counted when joint incidents are split). '
             '<code>ledger explain</code> prints these factors for every incident.</p>')
    used_roles = [r for r in ROLES if any(r in body["weights"].get(k, {}) for k in KINDS)]
    p.append('<table id="weights-table"><caption>Weights: one per incident kind (row) and victim role (column), '
             'per victim; an empty cell weighs 0</caption><thead>' + _row(["Kind", *map(esc, used_roles)], True) + "</thead><tbody>")
    for kind in KINDS:
        weights = body["weights"].get(kind, {})
        p.append(_row([esc(kind), *(esc(weights.get(r, "")) for r in used_roles)]))
    p.append("</tbody></table>")
    norm = body["normalization"]
    members = [
        ("Confidence", ", ".join(f"{c} × {esc(body['confidence'][c])}" for c in CONFIDENCES),
         "multiplier for how sure the recorder is of an attribution"),
        ("Basis", ", ".join(f"{b.replace('_', ' ')} × {esc(body['basis'][b])}" for b in BASES),
         "multiplier for what an attribution rests on"),
        ("Contested", f"{esc(body['contested']['mode'])}" + (f", factor {esc(body['contested']['factor'])}" if body["contested"]["mode"] == "discount" else ""),
         "an attribution under an unresolved dispute is excluded, or counts multiplied by the factor"),
        ("Joint incidents", esc(body["joint"]), "full: each attributed organization gets the whole incident; split: shared equally"),
        ("Minimum sources", str(body["min_sources"]), "independent publishers an incident needs to count"),
        ("Victim count", esc(body["count"]), "which estimate of the victims is used (low, best or high)"),
        ("Aggravating features", ", ".join(f"{esc(f.replace('_', ' '))} + {esc(body['features'].get(f, '0'))}" for f in FEATURES)
         if "features" in body else "not scored",
         "a weight added once per counted incident that carries the feature (before the attribution multipliers): "
         + "; ".join(f"{f.replace('_', ' ')}: {m}" for f, m in FEATURE_MEANINGS.items())),
        ("Splinters", esc(body.get("splinters", "clean")),
         "clean: a splinter of a dismantled target starts with a clean record; inherit: attributions still made to the "
         "dismantled target count for its splinters"),
        ("Normalization", "none: the score is the raw score" if norm is None else
         f"score = raw × {esc(norm['unit'])} / the {esc(norm['point'])} {esc(norm['metric'])} estimate (at least {esc(norm['floor'])})",
         "violence intensity: violence per unit of revenue or drug flow, the floor keeping small groups from being inflated"),
        ("Stand-out", f"ratio {esc(body['stand_out']['ratio'])}, minimum score {esc(body['stand_out']['min_score'])}",
         "the top score must exceed the minimum and be at least ratio × the runner-up's for a target to be selected"),
        ("Ties", esc(body["ties"]), "no target, or the panel chooses among the tied organizations"),
    ]
    p.append('<table id="rules-table"><thead>' + _row(["Member", "Value", "What it means"], True) + "</thead><tbody>")
    for name, value, meaning in members:
        p.append(_row([esc(name), value, esc(meaning)]))
    p.append("</tbody></table>")
    return "".join(p)


def _cmd(*parts: str) -> str:
    return " ".join(shlex.quote(p) for p in parts)


def round_report(snapshot: Snapshot, number: int, *, robustness: dict[str, Any] | None, source: str,
                 samples: int = 0, seed: int = 0, links: bool = False) -> str:
    """The HTML page of one round."""
    state = snapshot.state
    round_ = state.rounds[number]
    ranking = snapshot.document(number)
    doc = ranking.document
    selection = doc["selection"]
    status, verdict_text = snapshot.verdict(number)
    target = round_.target
    title = f"Round {number}: " + (f"target {org_label(snapshot, target)}" if target else
                                    "no target" if round_.decision is not None else f"{round_.status}, not decided yet")
    p: list[str] = []
    p.append(f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
             f'<meta name="generator" content="violence-scoring-ledger {esc(__version__)}"><title>{esc(title)}</title><style>{CSS}</style></head><body><main>')
    if links:
        p.append('<p class="note"><a href="index.html">All rounds</a></p>')
    p.append(f'<h1 id="title">{esc(title)}</h1>')
    p.append(f'<p class="sub">Ledger <span class="mono">{esc(snapshot.origin)}</span> · id <span class="mono">{esc(snapshot.ledger_id)}</span> · '
             f'{snapshot.size} entries · head <span class="mono">{esc(snapshot.head)}</span></p>')
    if snapshot.violations:
        p.append(f'<p class="bad">Warning: this ledger has {snapshot.violation_count} violation(s); entries with violations are ignored. '
                 f'Run <code>{esc(_cmd("ledger", "verify", source))}</code>.</p>')
    shown: Counter[str] = Counter()
    for rule, text in round_notices(round_, snapshot.state):  # SPEC.md 11.2: on the first screen
        shown[rule] += 1  # an id each: comes once per inheritance
        anchor = rule if shown[rule] == 1 else f"{rule}-{shown[rule]}"
        p.append(f'<p class="warn notice" id="notice-{esc(anchor)}"><b>Notice ({esc(rule)}):</b> {esc(text)}</p>')
    seen = snapshot.witnessed.get(number)
    if seen is not None:
        p.append(f'<p class="note" id="witnessed">The opening (entry {round_.open_seq}, rules committed; claimed {esc(round_.opened_on)}) '
                 f'was witnessed by <span class="mono">{esc(seen.witness)}</span> at {esc(seen.time)} '
                 f'(cosigned checkpoint of size {seen.checkpoint_size}): independent evidence of when the rules were fixed.</p>')

    # Key figures ------------------------------------------------------------------------
    rules = doc["rules"]
    verdict_class = {"matches": "ok", "deviation_justified": "warn", "pending": "warn"}.get(status, "bad")
    figures = [
        ("Target named by the panel", esc(org_label(snapshot, target)) + f' <span class="mono">({esc(target)})</span>' if target else
         ("no target" if round_.decision is not None else "not decided yet"), "target"),
        ("Rules' selection", esc(selection["outcome"].replace("_", " ")) + (f": {esc(selection['target'])}" if selection["target"] else ""), "selection"),
        ("Top score / runner-up", f'{esc(selection["top_score"])} / {esc(selection["runner_up_score"])}', "scores"),
        ("Stand-out margin", f'ratio {esc(selection["ratio"] or "n/a")} (required {esc(selection["required_ratio"])}; minimum score {esc(selection["min_score"])})', "margin"),
        ("Replay check", f'<span class="{verdict_class}">{esc(status.replace("_", " "))}</span>', "verdict"),
        ("Window", f'{esc(doc["window"]["start"])} to {esc(doc["window"]["end"])}', "window"),
    ]
    p.append('<div class="figures">' + "".join(f'<div class="figure" id="fig-{i}"><span>{esc(label)}</span><b>{value}</b></div>'
                                               for label, value, i in figures) + "</div>")
    p.append(f'<p>Ranking digest (SHA-256 of the ranking document): <span class="mono" id="digest">{esc(ranking.digest)}</span></p>')
    p.append(f'<p id="verdict-text" class="{verdict_class}">{esc(verdict_text)}.</p>')

    # The decision -----------------------------------------------------------------------
    p.append('<h2 id="decision">The decision and who signed it</h2>')
    if round_.decide_seq is not None:
        kept = snapshot.kept.get(round_.decide_seq)
        signers = snapshot.signer_names(round_.decide_seq)
        p.append(f'<p>Entry {round_.decide_seq}, claimed time {esc(kept.time if kept else "?")}, signed by {len(signers)} panel key(s): '
                 + ", ".join(f"<b>{esc(s)}</b>" for s in signers) + ".</p>")
        if round_.decision and round_.decision.get("justification"):
            p.append(f'<p>Justification (signed): <q>{esc(round_.decision["justification"])}</q></p>')
    else:
        p.append("<p>No decision has been recorded yet.</p>")
    for label, seq in (("Opened", round_.open_seq), ("Closed", round_.close_seq)):
        if seq is not None:
            names = snapshot.signer_names(seq)
            p.append(f'<p class="note">{label} at entry {seq} by {esc(", ".join(names) or "?")}.</p>')
    p.append(f'<p class="note">Committed rules: version {rules["version"]}, adopted at entry {rules["seq"]}, digest <span class="mono">{esc(rules["digest"])}</span>'
             f' ({esc(state.rules[rules["digest"]].body.get("name", ""))}).</p>')
    p.append(rules_section(dict(state.rules[rules["digest"]].body), rules["version"]))

    # Charts -----------------------------------------------------------------------------
    rows_kind, rows_role, used_kinds, used_roles = [], [], set(), set()
    for row in doc["ranking"]:
        by_kind, by_role = _segments(row)
        used_kinds.update(k for k, _ in by_kind)
        used_roles.update(r for r, _ in by_role)
        rows_kind.append((row["org"], org_label(snapshot, row["org"]), by_kind))
        rows_role.append((row["org"], org_label(snapshot, row["org"]), by_role))
    p.append('<h2 id="chart">Scores, broken down</h2>')
    normalized = any(r["normalization"] for r in doc["ranking"])
    if normalized:
        p.append('<p class="note">These rules divide violence by estimated revenue; each segment is scaled the same way, so the bars add up to the score.</p>')
    p.append("<h3>By element</h3>" + legend(KIND_COLOURS, used_kinds) + stacked_chart("chart-kind", f"Round {number} scores by element", rows_kind, KIND_COLOURS, target))
    p.append("<h3>By victim role</h3>" + legend(ROLE_COLOURS, used_roles) + stacked_chart("chart-role", f"Round {number} scores by victim role", rows_role, ROLE_COLOURS, target))

    # Ranking table ----------------------------------------------------------------------
    robust_rows = {r["org"]: r for r in (robustness or {}).get("organizations", [])}
    norm = state.rules[rules["digest"]].body["normalization"]
    p.append('<h2 id="ranking">Ranking</h2><table id="rank-table"><thead><tr><th class="num">Rank</th><th>Organization</th>'
             '<th class="num">Score</th><th class="num">Raw score</th>' + ('<th class="num">Divisor</th>' if norm else "")
             + '<th class="num">Incidents counted</th>'
             + ('<th class="num">P(first)</th><th class="num">Rank 5–95%</th>' if robustness else "") + "</tr></thead><tbody>")
    for row in doc["ranking"]:
        r = robust_rows.get(row["org"])
        extra = (f'<td class="num">{esc(r["p_first"]["value"])}</td><td class="num">{r["rank_5"]}–{r["rank_95"]}</td>' if r else "")
        cls = ' class="target"' if row["org"] == target else ""
        divisor = ""
        if row["normalization"] is not None:
            n = row["normalization"]
            divisor = f'<td class="num">{esc(n["divisor"])}{"" if n["estimate"] is not None and n["estimate"] == n["divisor"] else " (floor)"}</td>'
        p.append(f'<tr{cls}><td class="num">{row["rank"]}</td><td>{esc(org_label(snapshot, row["org"]))} <span class="mono">{esc(row["org"])}</span></td>'
                 f'<td class="num">{esc(row["score"])}</td><td class="num">{esc(row["raw"])}</td>{divisor}<td class="num">{len(row["incidents"])}</td>{extra}</tr>')
    p.append("</tbody></table>")
    columns = [("Rank", "competition rank by exact score (equal scores share a rank)"),
               ("Raw score", "the sum of the organization's contributions (every factor above), before normalization")]
    if norm:
        columns += [("Divisor", f"the organization's {norm['point']} {norm['metric']} estimate recorded before the close, "
                                f"or the floor {norm['floor']} when there is none or it is lower"),
                    ("Score", f"after normalization: raw × {norm['unit']} / divisor; what the ranking and the stand-out test use")]
    else:
        columns.append(("Score", "equal to the raw score: these rules have no normalization; what the ranking and the stand-out test use"))
    columns.append(("Incidents counted", "incidents that count for the organization (see ledger explain for each one's factors)"))
    if robustness:
        columns += [("P(first)", "share of the perturbed rankings in which it ranks first"), ("Rank 5–95%", "its rank's 5th and 95th percentiles over them")]
    p.append('<dl id="columns" class="note">' + "".join(f"<dt>{esc(c)}</dt><dd>{esc(m)}</dd>" for c, m in columns) + "</dl>")
    for tie in doc["ties"]:
        p.append(f'<p class="warn">Tie at rank {tie["rank"]} (score {esc(tie["score"])}): {esc(", ".join(tie["orgs"]))}.</p>')
    p.append("<details><summary>Full breakdown by element and victim role (raw contributions)</summary><table><thead><tr>"
             "<th>Organization</th><th>Element</th><th>Victim role</th><th class=\"num\">Contribution</th></tr></thead><tbody>")
    for row in doc["ranking"]:
        for kind, roles in row["breakdown"].items():
            for role, cell in roles.items():
                p.append(f'<tr><td>{esc(row["org"])}</td><td>{esc(kind)}</td><td>{esc(role)}</td><td class="num">{esc(cell["value"])}</td></tr>')
        for feature, cell in row.get("features", {}).items():
            p.append(f'<tr><td>{esc(row["org"])}</td><td>aggravating feature</td><td>{esc(feature)}</td><td class="num">{esc(cell["value"])}</td></tr>')
    p.append("</tbody></table></details>")

    # Robustness -------------------------------------------------------------------------
    p.append('<h2 id="robustness">How robust is the ranking?</h2>')
    if robustness:
        pert = robustness["perturbation"]
        p.append(f'<p id="robustness-verdict"><b>{esc(robustness["verdict"])}</b></p>')
        p.append('<h3>One input at a time</h3><p class="note">Every other input as committed; each scenario scored by the replay engine. '
                 'Unattributed incidents allocated by place is a sensitivity scenario, never a score.</p>')
        p.append('<table id="robustness-scenarios"><thead><tr><th>Input</th><th>Scenario</th><th>Selection</th>'
                 '<th class="num">Ratio</th><th class="num">Required</th></tr></thead><tbody>')
        for s in robustness["scenarios"]:
            cls = ' class="warn"' if s["changes_selection"] else ""
            p.append(f'<tr{cls}><td>{esc(s["input"].replace("_", " "))}</td><td>{esc(s["label"])}</td>'
                     f'<td>{esc(s["target"] or s["outcome"].replace("_", " "))}</td><td class="num">{esc(s["ratio"] or "n/a")}</td>'
                     f'<td class="num">{esc(s["required_ratio"])}</td></tr>')
        p.append("</tbody></table>")
        ratio, floor, sources = pert["ratio"], pert["min_score"], pert["min_sources"]
        p.append(f'<h3>All inputs jointly</h3><p class="note">{robustness["samples"]} perturbed rankings (seed {robustness["seed"]}), each scored by '
                 f'the replay engine: {esc(pert["weights"])} ({pert["weights_perturbed"]} weights); victim counts low, best or high; attribution as '
                 f'committed, without contested attributions, or corroborated only (two publishers, no attribution resting on a claim or an '
                 f'inference); ' + (f'each organization\'s {esc(pert["estimates"]["metric"])} estimate at its low, best or high; '
                                    if pert["estimates"]["orgs"] else "")
                 + f'stand-out ratio {esc(" to ".join(ratio["range"]))} (committed {esc(ratio["committed"])}); minimum score '
                 f'{esc(" to ".join(floor["range"]))} (committed {esc(floor["committed"])}); min_sources '
                 f'{esc(", ".join(map(str, sources["values"])))}; unattributed incidents allocated by place or not. '
                 f'Method after the OECD/JRC Handbook on Constructing Composite Indicators (uncertainty analysis).</p>')
        p.append('<table><thead><tr><th>Selection across the samples</th><th class="num">Share</th></tr></thead><tbody>')
        for item in robustness["selection"]["targets"]:
            p.append(f'<tr><td>{esc(item["target"] or "no target")}</td><td class="num">{esc(item["value"])}</td></tr>')
        p.append("</tbody></table>")
    else:
        p.append("<p>Not computed for this report (run the robustness command below).</p>")

    # Exclusions -------------------------------------------------------------------------
    reasons = Counter(e["reason"] for e in doc["excluded"])
    p.append(f'<h2 id="excluded">Incidents not counted ({len(doc["excluded"])}) and counted ({doc["counts"]["incidents_counted"]})</h2>')
    p.append('<table id="excluded-table"><thead><tr><th>Reason</th><th>What it means</th><th class="num">Count</th></tr></thead><tbody>')
    for reason, n in sorted(reasons.items()):
        p.append(f'<tr><td class="mono">{esc(reason)}</td><td>{esc(REASONS.get(reason, ""))}</td><td class="num">{n}</td></tr>')
    p.append("</tbody></table>")
    if doc["excluded"]:
        p.append("<details><summary>Every excluded incident</summary><table><thead><tr><th>Incident</th><th class=\"num\">Entry</th><th>Reason</th><th>Organization</th></tr></thead><tbody>")
        for e in doc["excluded"]:
            p.append(f'<tr><td class="mono">{esc(e["incident"])}</td><td class="num">{e["seq"]}</td><td>{esc(e["reason"])}</td><td>{esc(e["org"] or "")}</td></tr>')
        p.append("</tbody></table></details>")

    # Progress against the target ----------------------------------------------------------
    p.append('<h2 id="progress">Enforcement progress against the target</h2>')
    updates = [snapshot.kept[s] for s in round_.progress if s in snapshot.kept]
    if round_.dismantled_seq is not None and round_.dismantled_seq in snapshot.kept:
        updates.append(snapshot.kept[round_.dismantled_seq])
    if updates:
        p.append('<table id="progress-table"><thead><tr><th>Date</th><th>Entry</th><th>Update</th><th>Signed by</th></tr></thead><tbody>')
        for u in updates:
            what = ("DISMANTLED: " if u.type == "target.dismantled" else "") + u.body.get("summary", "")
            p.append(f'<tr><td>{esc(u.body.get("date"))}</td><td class="num">{u.seq}</td><td>{esc(what)}</td><td>{esc(", ".join(snapshot.signer_names(u.seq)))}</td></tr>')
        p.append("</tbody></table>")
    else:
        p.append("<p>No progress reports recorded.</p>")

    result = snapshot.outcomes()  # SPEC.md 12.12: did it work?
    p.append(outcomes_section(result.document, result.digest, number))
    p.append(history_table(snapshot, links))

    # Reproduce ----------------------------------------------------------------------------
    top = target or (doc["ranking"][0]["org"] if doc["ranking"] else "")
    commands = [
        ("Verify every entry, signature and rule of the ledger", _cmd("ledger", "verify", source)),
        ("Recompute this ranking and compare it with the decision", _cmd("ledger", "replay", source, "--round", str(number))),
        (f"The digest {ranking.digest[:16]}… is the SHA-256 of the canonical ranking document",
         _cmd("ledger", "replay", source, "--round", str(number), "--json") + " | tr -d '\\n' | sha256sum"),
        ("Every incident behind a score", _cmd("ledger", "explain", source, "--round", str(number), "--org", top)),
        ("Violence before and after, and against the baseline", _cmd("ledger", "outcomes", source)),
        ("The robustness figures", _cmd("ledger", "robustness", source, "--round", str(number), "--samples", str(samples), "--seed", str(seed))),
        ("This report", _cmd("ledger", "report", source, "--round", str(number), "--out", f"round-{number}.html", "--samples", str(samples), "--seed", str(seed))),
    ]
    p.append('<h2 id="reproduce">Reproduce every number</h2><p>With the published ledger and the <code>ledger</code> tool installed:</p>')
    for label, command in commands:
        p.append(f"<p>{esc(label)}:</p><pre>{esc(command)}</pre>")
    p.append(f'<p class="note">Generated by violence-scoring-ledger {esc(__version__)} from {snapshot.size} entries. '
             'This page is self-contained: no script, no external resource.</p></main></body></html>\n')
    return "".join(p)


def history_table(snapshot: Snapshot, links: bool) -> str:
    state = snapshot.state
    out = ['<h2 id="history">History of rounds</h2><table id="history-table"><thead><tr><th class="num">Round</th><th>Window</th>'
           '<th class="num">Rules</th><th>Status</th><th>Target</th><th>Replay check</th></tr></thead><tbody>']
    for number, round_ in sorted(state.rounds.items()):
        status, _ = snapshot.verdict(number)
        label = f'<a href="round-{number}.html">{number}</a>' if links else str(number)
        target = round_.target or ("no target" if round_.decision is not None else "—")
        out.append(f'<tr><td class="num">{label}</td><td>{esc(round_.body["window"]["start"])} to {esc(round_.body["window"]["end"])}</td>'
                   f'<td class="num">v{state.rules[round_.rules].version}</td><td>{esc(round_.status.replace("_", " "))}</td>'
                   f'<td>{esc(target)}{" (retrospective)" if round_.retrospective is not None else ""}</td>'
                   f'<td>{esc(status.replace("_", " "))}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def index_report(snapshot: Snapshot, robustness: dict[int, dict[str, Any]], source: str) -> str:
    """The whole ledger: every round, and every organization's score across rounds."""
    state = snapshot.state
    numbers = sorted(state.rounds)
    scores: dict[str, dict[int, dict[str, Any]]] = {}
    for number in numbers:
        for row in snapshot.document(number).document["ranking"]:
            scores.setdefault(row["org"], {})[number] = row
    p = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
         f'<title>{esc(snapshot.origin)}: all rounds</title><style>{CSS}</style></head><body><main>',
         f'<h1 id="title">All rounds of {esc(snapshot.origin)}</h1>',
         f'<p class="sub">Ledger id <span class="mono">{esc(snapshot.ledger_id)}</span> · {snapshot.size} entries · head <span class="mono">{esc(snapshot.head)}</span></p>']
    if snapshot.violations:
        p.append(f'<p class="bad">Warning: this ledger has {snapshot.violation_count} violation(s).</p>')
    p.append(history_table(snapshot, True))
    p.append('<h2 id="orgs">Every organization across rounds</h2><p class="note">Scores are comparable only between rounds with the same rules; '
             'the rules version is in the header. Bars are scaled within each round; ★ marks the round\'s target.</p>')
    p.append('<table id="orgs-table"><thead><tr><th>Organization</th>' + "".join(
        f'<th class="num">Round {n} (rules v{state.rules[state.rounds[n].rules].version})</th>' for n in numbers) + "</tr></thead><tbody>")
    tops = {n: max((_fraction(r["score_exact"]) for r in snapshot.document(n).document["ranking"]), default=Fraction(0)) for n in numbers}
    for org in sorted(scores, key=lambda o: (min(r["rank"] for r in scores[o].values()), o)):
        cells = []
        for n in numbers:
            row = scores[org].get(n)
            if row is None:
                cells.append('<td class="num">—</td>')
                continue
            width = _px(_fraction(row["score_exact"]), tops[n], 120)
            star = " ★" if state.rounds[n].target == org else ""
            cells.append(f'<td class="num"><svg class="spark" width="124" height="12" viewBox="0 0 124 12" xmlns="http://www.w3.org/2000/svg">'
                         f'<rect x="0" y="2" width="{width}" height="8" fill="#0072B2"><title>{esc(org)} round {n}: {esc(row["score"])}</title></rect></svg><br>'
                         f'{esc(row["score"])} (#{row["rank"]}){star}</td>')
        p.append(f'<tr><td>{esc(org_label(snapshot, org))} <span class="mono">{esc(org)}</span></td>{"".join(cells)}</tr>')
    p.append("</tbody></table>")
    result = snapshot.outcomes()  # SPEC.md 12.12: did it work?
    p.append(outcomes_section(result.document, result.digest))
    if robustness:
        p.append('<h2 id="robustness">Robustness of each selection</h2><ul>')
        for n, r in sorted(robustness.items()):
            p.append(f"<li>Round {n}: {esc(r['verdict'])}</li>")
        p.append("</ul>")
    p.append(f'<h2 id="reproduce">Reproduce</h2><pre>{esc(_cmd("ledger", "verify", source))}\n{esc(_cmd("ledger", "rounds", source))}\n'
             f'{esc(_cmd("ledger", "outcomes", source))}</pre>')
    p.append(f'<p class="note">Generated by violence-scoring-ledger {esc(__version__)}. Self-contained: no script, no external resource.</p></main></body></html>\n')
    return "".join(p)


__all__ = ["esc", "round_report", "index_report", "stacked_chart", "parse_decimal"]
