"""The normative worked examples of the ranking document (SPEC.md 12.9, 12.11).

A small ledger, built from fixed keys and a fixed clock (Ed25519 signatures are
deterministic, so the same bytes every time), whose two rounds exercise the choices the
document's digest depends on: an empty ``candidates``, ``top`` as a list of ids, a null
and a non-null ``ratio``, rules decimals copied as written (``"1.50"``, ``"0.0"``),
breakdown cells whose weight or count is zero, a split attribution with a contested
(discounted) share, and every exclusion reason with the ``seq`` it carries.

The second example (``build_features``, SPEC 12.11 "features and splinters") is a round
on rules with ``features`` and ``splinters: inherit`` and a normalization: an incident
carrying two features, attributed jointly (split) to a dismantled target, inherited by its
splinter (``via``), and to another organization; every score divided by an estimate or by
the floor; displayed values that round half to even.

``python tests/ranking_example.py examples`` writes, for each example, ``ledger.jsonl`` and
the documents of its rounds (``round-N.json``: the document's exact canonical bytes, so
``sha256sum`` of the file is the ranking digest) into ``examples/<name>/``;
``tests/scoring/test_ranking_document.py`` checks the stored files against the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.scoring import authoring as A

from scoring_fixtures import TWO_SOURCES, MiniLedger, estimate, src

PANEL = ["p1", "p2", "p3"]


def build() -> MiniLedger:
    m = MiniLedger()
    for org in ("alpha", "beta", "gamma", "delta"):
        m.add("org.register", A.org_register(org, f"Organization {org.capitalize()}"))
    m.add("org.lineage", A.org_lineage("delta", "merged_into", "alpha", "2025-12-20"), signers=PANEL)
    weights = {"killing": {"ordinary_citizen": "2", "police": "3", "unknown": "0"}, "extortion": {"ordinary_citizen": "0.5"}}
    rules1 = m.adopt(1, weights=weights, joint="split", contested={"mode": "discount", "factor": "0.5"},
                     stand_out={"ratio": "1.50", "min_score": "0.0"}, places=2, ties="panel_choice")
    # Recorded before the round opened, dated into its window: never counted (12.1 step 3).
    m.incident("pre-1", "2026-01-02", "beta", killed=5)
    m.open(1, rules1, ["alpha", "beta", "gamma"], start="2026-01-01", end="2026-01-31")
    # alpha: 3 citizens (weight 2), 1 unknown victim (weight 0), a police count of 0.
    body = A.incident("inc-01", "2026-01-05", "killing", attributions=[A.attribution("alpha")], sources=TWO_SOURCES,
                      victims=[A.victim("ordinary_citizen", 3), A.victim("unknown", 1), A.victim("police", 0, 0, 1)])
    m.add("incident.record", body)
    # Joint: alpha and beta, beta's attribution contested (discounted): c = 2 for both.
    m.incident("inc-02", "2026-01-06", ["alpha", "beta"], killed=2)
    m.add("attribution.dispute", {"dispute_id": "d-1", "incident_id": "inc-02", "org": "beta", "basis": "misidentification",
                                  "raised_by": "journalist", "grounds": "witnesses disagree", "sources": [src("la-jornada")]})
    # Amended: the first version is superseded, the second counts.
    m.incident("inc-03", "2026-01-07", "alpha", kind="extortion")
    m.add("incident.amend", {"incident": A.incident("inc-03", "2026-01-07", "extortion", victims=[A.victim("ordinary_citizen", 4)],
                                                    attributions=[A.attribution("alpha", "media", "medium")], sources=TWO_SOURCES),
                             "reason": "four victims, per the prosecutor"})
    m.incident("inc-04", "2026-01-08", "gamma")
    m.add("incident.retract", {"incident_id": "inc-04", "reason": "duplicate report"})
    m.incident("inc-05", "2026-01-09", "gamma", sources=[src("reforma")])  # one publisher: too few
    m.incident("inc-06", "2026-01-10", None)  # unattributed
    m.incident("inc-07", "2026-01-11", "delta")  # merged into alpha: not eligible
    m.incident("inc-08", "2026-01-12", "beta", killed=9)  # a false flag, upheld
    m.add("attribution.dispute", {"dispute_id": "d-2", "incident_id": "inc-08", "org": "beta", "basis": "false_flag",
                                  "raised_by": "organization", "grounds": "staged banner", "sources": [src("reforma")]})
    m.add("dispute.resolve", {"dispute_id": "d-2", "outcome": "upheld", "justification": "forensics"}, signers=PANEL)
    m.incident("inc-09", "2025-12-30", "gamma")  # recorded during the round, dated before it
    m.close(1, "2026-02-01")
    m.incident("inc-10", "2026-01-20", "gamma", killed=50)  # backfilled after the close
    m.decide(1)
    m.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2026-02-01", "summary": "leadership arrested"}, signers=PANEL)
    # Round 2: places 0, only beta scores: ratio null, gamma at 0.
    rules2 = m.adopt(2, weights=weights, joint="full", stand_out={"ratio": "1.25", "min_score": "1"}, places=0)
    m.open(2, rules2, ["beta", "gamma"], start="2026-02-02", end="2026-02-28")
    m.incident("inc-11", "2026-02-10", "beta", killed=3)
    m.close(2, "2026-03-01")
    m.decide(2)
    return m


def build_features() -> MiniLedger:
    """Round 1 (default rules) names alpha, which is dismantled; alpha-norte splits from it.
    Round 2 (rules v2: ``features``, ``splinters: inherit``, joint split, normalization,
    places 2) is the example; its arithmetic is worked by hand in SPEC 12.11."""
    m = MiniLedger()
    for org in ("alpha", "beta", "gamma"):
        m.add("org.register", A.org_register(org, f"Organization {org.capitalize()}"))
    m.open(1, m.adopt(1), ["alpha", "beta", "gamma"], start="2026-01-01", end="2026-01-31")
    m.set_date("2026-01-11")
    m.incident("r1-1", "2026-01-10", "alpha", killed=2)
    m.close(1, "2026-02-01")
    m.decide(1)  # alpha stands out
    m.add("target.dismantled", {"round": 1, "org": "alpha", "date": "2026-02-01", "summary": "leadership arrested"}, signers=PANEL)
    m.add("org.register", A.org_register("alpha-norte", "Organization Alpha Norte"))
    m.add("org.lineage", A.org_lineage("alpha-norte", "split_from", "alpha", "2026-02-01"))
    m.add("estimate.record", estimate("beta", "200000000"))  # above the floor: divides beta's raw
    m.add("estimate.record", estimate("alpha-norte", "30000000"))  # below the floor: the floor divides
    # gamma: no estimate, the floor divides
    rules2 = m.adopt(2, weights={"killing": {"ordinary_citizen": "2", "police": "3"}, "kidnapping": {"journalist": "4"}},
                     features={"public_display": "3", "torture": "1.5"}, splinters="inherit", joint="split",
                     normalization={"metric": "revenue_usd", "point": "best", "floor": "50000000", "unit": "100000000"},
                     stand_out={"ratio": "1.25", "min_score": "0"}, places=2)
    m.set_date("2026-03-01")
    m.open(2, rules2, ["alpha-norte", "beta", "gamma"], start="2026-03-01", end="2026-03-31")
    m.set_date("2026-03-06")
    # Two features, a joint (split) attribution: alpha's share is inherited by alpha-norte.
    m.add("incident.record", A.incident(
        "x-1", "2026-03-03", "killing", victims=[A.victim("ordinary_citizen", 2)],
        attributions=[A.attribution("alpha", "media", "medium"), A.attribution("beta", "official_finding", "high")],
        sources=TWO_SOURCES, features=["public_display", "torture"]))
    m.add("incident.record", A.incident(
        "x-2", "2026-03-04", "kidnapping", victims=[A.victim("journalist", 1)],
        attributions=[A.attribution("gamma", "claim", "high")], sources=TWO_SOURCES))
    m.add("incident.record", A.incident(
        "x-3", "2026-03-05", "killing", victims=[A.victim("police", 1)],
        attributions=[A.attribution("alpha-norte", "forensic", "high")], sources=TWO_SOURCES))
    m.close(2, "2026-04-01")
    m.decide(2)
    return m


EXAMPLES = {"ranking-document": build, "ranking-document-features": build_features}


def write(directory: Path) -> None:
    """Write every example into ``directory/<name>/``."""
    for name, builder in EXAMPLES.items():
        m = builder()
        target = directory / name
        target.mkdir(parents=True, exist_ok=True)
        (target / "ledger.jsonl").write_bytes(b"".join(raw + b"\n" for raw in m.raws))
        for number in sorted(m.state.rounds):
            document = m.replay(number)
            assert document.raw is not None
            (target / f"round-{number}.json").write_bytes(document.raw)
            print(f"{name} round {number}: {document.digest}")


if __name__ == "__main__":  # pragma: no cover
    write(Path(sys.argv[1]))
