"""The report's "Did it work?" section (SPEC.md 12.12): deterministic inline SVG from the
outcomes document, whole pixels only, every ledger string escaped."""

from __future__ import annotations

import re

from ledger.people.report_outcomes import outcomes_chart, outcomes_section
from ledger.scoring.outcomes import outcomes

from outcomes_fixtures import baseline, example

EVIL = '<script>alert(1)</script>"&'


def test_the_section_is_the_same_bytes_twice_and_draws_only_whole_pixels():
    first = outcomes(example().state)
    second = outcomes(example().state)
    html = outcomes_section(first.document, first.digest)
    assert html == outcomes_section(second.document, second.digest)
    svg = html[html.index("<svg"):html.index("</svg>")]
    numbers = re.findall(r' (?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', svg)
    assert numbers and all(re.fullmatch(r"-?\d+", n) for n in numbers)
    for points in re.findall(r'points="([^"]*)"', svg):
        assert re.fullmatch(r"\d+,\d+( \d+,\d+)*", points)
    assert first.digest in html


def test_bars_markers_and_the_baseline_follow_the_document():
    result = outcomes(example().state)
    doc = result.document
    svg = outcomes_chart(doc, "c", doc["rounds"])
    bars = re.findall(r'data-period="([^"]+)" data-part="(\w+)" x="\d+" y="\d+" width="\d+" height="(\d+)"', svg)
    heights = {(period, part): int(h) for period, part, h in bars}
    # January: 5 victims attributed (a-1 3, a-2 1, b-1 1) and 2 unattributed (u-1); February: 5, all
    # attributed; March: 4 (b-4). The bars are in proportion, to the pixel.
    assert ("2026-02", "unattributed") not in heights and heights[("2026-01", "unattributed")] > 0
    assert heights[("2026-01", "attributed")] == heights[("2026-02", "attributed")]
    assert heights[("2026-03", "attributed")] * 5 == heights[("2026-02", "attributed")] * 4
    assert 'Round 1: alpha named on 2026-02-05' in svg and 'Round 1: alpha dismantled on 2026-02-25' in svg
    assert 'id="c-baseline"' in svg and 'id="c-measured"' in svg
    section = outcomes_section(doc, result.digest, 1)
    assert 'id="outcome-round-1"' in section and "ratio 0.143: at or below the baseline" in section


def test_a_hostile_justification_is_escaped():
    m = example()
    m.set_date("2026-03-10")
    m.add("outcome.baseline", baseline(justification=EVIL))
    result = outcomes(m.state)
    html = outcomes_section(result.document, result.digest)
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;" in html


def test_without_rounds_or_baseline_the_section_says_so():
    m = example()
    doc = outcomes(m.state, through=5).document  # before the decision and the baseline
    html = outcomes_section(doc, "0" * 64)
    assert "No round with a target to follow." in html and "No step-7 baseline has been recorded" in html


def test_a_replaced_baseline_is_said_in_the_section():
    m = example()
    first = len(m.raws) - 1
    result = outcomes(m.state)
    assert 'id="outcome-baseline-replaced"' not in outcomes_section(result.document, result.digest)
    m.set_date("2026-03-12")
    m.add("outcome.baseline", baseline(level={"value": "20", "per": "week"}))
    result = outcomes(m.state)
    html = outcomes_section(result.document, result.digest)
    assert f'<p id="outcome-baseline-replaced">It replaces the baseline of entries {first}:' in html
