"""The HTML report shows the committed rules (weights, multipliers, features, splinters,
normalization, stand-out) with their rationale and says what every ranking column means:
Raw is before normalization, Score after (SPEC.md 10.7, 12.3, 12.5, 12.9)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from people_fixtures import run
from scoring_fixtures import features_and_splinters


def report(tmp_path: Path, normalized: bool) -> str:
    bundle = tmp_path / "ledger.jsonl"
    bundle.write_bytes(b"".join(raw + b"\n" for raw in features_and_splinters(normalized).raws))
    out = tmp_path / "round-2.html"
    run("report", bundle, "--round", 2, "--out", out, "--samples", 0, check=True)
    return html.unescape(out.read_text(encoding="utf-8"))


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return re.sub(r"<[^>]+>", " ", page[start:page.index("</table>", start)])


@pytest.mark.parametrize("normalized", [True, False])
def test_the_report_shows_the_rules_and_what_each_column_means(tmp_path, normalized):
    page = report(tmp_path, normalized)
    assert "Rationale, as the panel adopted it: Features weigh what a kind alone cannot; splinters inherit." in re.sub(r"<[^>]+>", "", page)
    weights = " ".join(section(page, "weights-table").split())
    assert "killing 1 3 4 4 6 5 5 2" in weights  # the weights row of the committed rules
    rules = " ".join(section(page, "rules-table").split())
    for shown in ("low × 0.25, medium × 0.6, high × 1", "discount, factor 0.5", "Joint incidents split",
                  "mass killing + 4.5, public display + 2, torture + 1.25", "Splinters inherit",
                  "ratio 1.25, minimum score 0"):
        assert shown in rules, shown
    columns = " ".join(re.sub(r"<[^>]+>", " ", page[page.index('id="columns"'):page.index("</dl>")]).split())
    assert "Raw score the sum of the organization's contributions (every factor above), before normalization" in columns
    ranking = " ".join(section(page, "rank-table").split())
    if normalized:
        assert "Normalization score = raw × 100000000 / the best revenue_usd estimate (at least 50000000)" in rules
        assert "Score after normalization: raw × 100000000 / divisor" in columns
        assert "15.975 7.988 50000000 (floor)" in ranking and "1.062 3.188 300000000 " in ranking
    else:
        assert "Normalization none: the score is the raw score" in rules
        assert "Score equal to the raw score: these rules have no normalization" in columns
        assert "Divisor" not in ranking


def test_feature_contributions_are_a_segment_of_the_bars(tmp_path):
    page = report(tmp_path, True)
    assert "ALPHA-SUR: aggravating_features 7.26" in page  # (0.945 + 2.42 + 0.2625) x 1e8 / 5e7, shown with 2 places
    assert "alpha-sur aggravating feature public_display 2.420" in " ".join(re.sub(r"<[^>]+>", " ", page).split())
