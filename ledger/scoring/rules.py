"""A scoring rule set (a ``rules.adopt`` body) parsed into exact arithmetic (SPEC.md 12.2).

Every decimal string becomes an integer scaled by a power of ten that is common to its
group (weights; confidence multipliers; basis multipliers; the contested factor), so that
the replay engine multiplies integers only and divides once, at the end, with
:class:`fractions.Fraction`. Nothing here ever touches a binary float.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from ..errors import SchemaError
from .types import BASES, CONFIDENCES, FEATURES, KINDS, ROLES


def parse_decimal(text: str) -> Fraction:
    """The exact value of a decimal string (schema-checked: no sign, no exponent)."""
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    whole, _, frac = digits.partition(".")
    value = Fraction(int(whole + frac), 10 ** len(frac))
    return -value if negative else value


def _scaled(texts: Mapping[str, str]) -> tuple[dict[str, int], int]:
    """Integers over one power-of-ten denominator: value(k) = out[k] / scale."""
    places = max((len(t.partition(".")[2]) for t in texts.values()), default=0)
    scale = 10**places
    return {k: int(parse_decimal(t) * scale) for k, t in texts.items()}, scale


@dataclass(frozen=True)
class Rules:
    """One adopted version of the scoring rules, ready for integer arithmetic."""

    version: int
    digest: str  # hex SHA-256 of the rules.adopt statement (what rounds commit to)
    seq: int  # entry that adopted it
    body: Mapping[str, Any]
    weight: Mapping[tuple[str, str], int]  # (kind, role) -> weight * weight_scale
    weight_scale: int
    confidence: Mapping[str, int]
    confidence_scale: int
    basis: Mapping[str, int]
    basis_scale: int
    contested_mode: str  # "exclude" | "discount"
    contested_factor: int
    contested_scale: int
    joint: str  # "full" | "split"
    min_sources: int
    count: str  # "low" | "best" | "high"
    normalization: Mapping[str, Any] | None
    floor: Fraction | None
    unit: Fraction | None
    ratio: Fraction
    min_score: Fraction
    ties: str  # "no_target" | "panel_choice"
    places: int
    max_window_days: int = 0  # schedule (10.7): longest window of a round on these rules
    min_notice_days: int = 0  # schedule (10.7): days from adoption to a round's window start
    # features (10.7, 12.3): feature -> weight * weight_scale (every feature; a missing one 0);
    # None when the rules have no ``features`` member (features are then not scored)
    feature: Mapping[str, int] | None = None
    splinters: str = "clean"  # "clean" | "inherit" (10.7, 12.1 step 7)

    @property
    def extended(self) -> bool:
        """Whether the rules use a member that adds to the ranking document (12.9)."""
        return self.feature is not None or self.splinters == "inherit"

    @property
    def denominator(self) -> int:
        """Every un-shared contribution is an integer over this (SPEC.md 12.3)."""
        return self.weight_scale * self.confidence_scale * self.basis_scale * self.contested_scale

    def multiplier(self, basis: str, confidence: str, contested: bool) -> int:
        """Attribution multiplier, scaled by confidence_scale * basis_scale * contested_scale."""
        factor = self.contested_factor if contested else self.contested_scale
        return self.confidence[confidence] * self.basis[basis] * factor


#: The schedule of rules that do not state one (SPEC.md 10.7): windows of at most 13 weeks
#: ("weeks, not months"), no minimum notice beyond R-11.13.
DEFAULT_SCHEDULE = {"max_window_days": 91, "min_notice_days": 0}


def problems(body: Mapping[str, Any]) -> list[str]:
    """Semantic problems of a schema-valid rules body (R-10.12); empty when it is usable."""
    out: list[str] = []
    if parse_decimal(body["contested"]["factor"]) > 1:
        out.append("contested.factor must be at most 1")
    if parse_decimal(body["stand_out"]["ratio"]) < 1:
        out.append("stand_out.ratio must be at least 1")
    norm = body["normalization"]
    if norm is not None:
        if parse_decimal(norm["floor"]) <= 0:
            out.append("normalization.floor must be greater than 0")
        if parse_decimal(norm["unit"]) <= 0:
            out.append("normalization.unit must be greater than 0")
    return out


def parse_rules(body: Mapping[str, Any], digest: str, seq: int) -> Rules:
    """Build :class:`Rules` from a schema-valid, problem-free ``rules.adopt`` body."""
    bad = problems(body)
    if bad:
        raise SchemaError(f"invalid rules: {bad[0]}", rule="R-10.12")
    weight_texts = {
        (kind, role): text for kind, roles in body["weights"].items() for role, text in roles.items()
    }
    feature_texts = body.get("features")
    # Feature weights add to the victims' weights (12.3): one scale for both.
    every = [*weight_texts.values(), *(feature_texts or {}).values()]
    places = max((len(t.partition(".")[2]) for t in every), default=0)
    weight_scale = 10**places
    weight = {key: int(parse_decimal(text) * weight_scale) for key, text in weight_texts.items()}
    feature = None
    if feature_texts is not None:
        feature = {f: int(parse_decimal(feature_texts[f]) * weight_scale) if f in feature_texts else 0 for f in FEATURES}
    for kind in KINDS:  # a missing (kind, role) weighs 0
        for role in ROLES:
            weight.setdefault((kind, role), 0)
    confidence, confidence_scale = _scaled({c: body["confidence"][c] for c in CONFIDENCES})
    basis, basis_scale = _scaled({b: body["basis"][b] for b in BASES})
    contested, contested_scale = _scaled({"factor": body["contested"]["factor"]})
    if body["contested"]["mode"] == "exclude":
        contested = {"factor": 0}
    norm = body["normalization"]
    return Rules(
        version=body["version"],
        digest=digest,
        seq=seq,
        body=body,
        weight=weight,
        weight_scale=weight_scale,
        confidence=confidence,
        confidence_scale=confidence_scale,
        basis=basis,
        basis_scale=basis_scale,
        contested_mode=body["contested"]["mode"],
        contested_factor=contested["factor"],
        contested_scale=contested_scale,
        joint=body["joint"],
        min_sources=body["min_sources"],
        count=body["count"],
        normalization=norm,
        floor=parse_decimal(norm["floor"]) if norm else None,
        unit=parse_decimal(norm["unit"]) if norm else None,
        ratio=parse_decimal(body["stand_out"]["ratio"]),
        min_score=parse_decimal(body["stand_out"]["min_score"]),
        ties=body["ties"],
        places=body["places"],
        max_window_days=body.get("schedule", DEFAULT_SCHEDULE)["max_window_days"],
        min_notice_days=body.get("schedule", DEFAULT_SCHEDULE)["min_notice_days"],
        feature=feature,
        splinters=body.get("splinters", "clean"),
    )


def exact(value: Fraction) -> str:
    """The exact value as text: reduced ``n/d``, or ``n`` when the denominator is 1."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def display(value: Fraction, places: int) -> str:
    """Round half to even to ``places`` decimals and print exactly that many (SPEC.md 12.6)."""
    scaled = round(value * 10**places)  # Fraction.__round__: exact, ties to even
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled)).rjust(places + 1, "0")
    if places == 0:
        return sign + digits
    return f"{sign}{digits[:-places]}.{digits[-places:]}"
