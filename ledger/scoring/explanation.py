"""Every factor of a score as text a reader can recompute by hand (SPEC.md 12.3, 12.5).

The factors come from the replay engine (``replay(..., factors=True)``, one implementation
of the arithmetic); this module only writes them out, for ``ledger explain`` and the HTML
report. Every number is printed as the rules write it (decimal text) or as an exact
fraction, never rounded, so that multiplying the printed factors gives the exact value.
"""

from __future__ import annotations

from typing import Any


def contribution_formula(factors: dict[str, Any]) -> str:
    """``(role weight x count + feature weight) x confidence LEVEL v x basis LEVEL v x
    contested v x share s = exact`` for one contribution (12.3)."""
    terms = [f"{t['role']} {t['weight']} x {t['count']}" for t in factors["terms"]]
    terms += [f"{f['feature']} {f['weight']}" for f in factors["features"]]
    return (f"({' + '.join(terms)}) x confidence {factors['confidence']['level']} {factors['confidence']['value']}"
            f" x basis {factors['basis']['level']} {factors['basis']['value']}"
            f" x contested {factors['contested'] or '1'} x share {factors['share']} = {factors['contribution']}")


def normalization_formula(norm: dict[str, Any] | None, raw_exact: str, score_exact: str) -> str:
    """``Score = raw x unit / divisor`` with the estimate entry the divisor came from (12.5),
    or that the score is the raw score."""
    if norm is None:
        return f"Score = raw = {score_exact} (the rules have no normalization)"
    estimate = norm["estimate"]
    if estimate is None:
        why = f"no {norm['metric']} estimate before the close: the floor {norm['floor']}"
    elif norm["uses"] == "floor":
        why = f"{norm['metric']} {norm['point']} estimate {estimate['value']} (entry {estimate['seq']}) is below the floor {norm['floor']}: the floor"
    else:
        why = f"{norm['metric']} {norm['point']} estimate of entry {estimate['seq']}"
    return f"Score = raw {raw_exact} x unit {norm['unit']} / divisor {norm['divisor']} = {score_exact}; divisor: {why}"
