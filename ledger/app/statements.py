"""Statements built from command-line values: a body from a JSON file, a policy change
from ``ROLE=PUBFILE``, key-id prefixes and ``ROLE=N`` (SPEC.md 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..core import canonical
from ..core.authoring import policy_update_statement
from ..core.model import Statement
from ..core.policy import Policy
from ..errors import AuthorityError, InputError, LedgerError, OptionError
from ..storage.keyfiles import read_public_key_file
from .load import Loaded


def parse_body(data: bytes, source: str) -> dict[str, Any]:
    """A statement body from JSON bytes (errors name ``source``)."""
    try:
        body = canonical.parse(data.strip())
    except LedgerError as exc:
        raise InputError(f"{source}: {exc.message}") from None
    if not isinstance(body, dict):
        raise InputError(f"{source}: the body must be a JSON object")
    return body


def full_key_id(policy: Policy, prefix: str, option: str) -> str:
    """The one key id of ``policy`` that starts with ``prefix``; an ambiguous or unknown
    prefix is refused (revocation is permanent: never guess which key was meant)."""
    matches = sorted(k for k in policy.keys if prefix and k.startswith(prefix.lower()))
    if len(matches) != 1:
        found = "no key" if not matches else f"{len(matches)} keys ({', '.join(m[:12] for m in matches)})"
        raise AuthorityError(f"{option} {prefix!r} matches {found} of policy version {policy.version}; give the key id")
    return matches[0]


def policy_change(view: Loaded, at: str, reason: str, adds: Iterable[str], removes: Iterable[str],
                  revokes: Iterable[str], thresholds: Iterable[str]) -> Statement:
    """A ``policy.update`` of the ledger's current policy: ``adds`` as ``ROLE=PUBFILE``,
    ``removes`` and ``revokes`` as key-id prefixes, ``thresholds`` as ``ROLE=N``."""
    policy = view.policy
    assert policy is not None
    add = []
    for item in adds:
        role, _, file = item.partition("=")
        if not file:
            raise OptionError(f"expected ROLE=PUBFILE, got {item!r}", "--add")
        public, label = read_public_key_file(Path(file))
        add.append((role, public, label))
    parsed: dict[str, int] = {}
    for item in thresholds:
        role, _, value = item.partition("=")
        if not value.isdigit():
            raise OptionError(f"expected ROLE=N, got {item!r}", "--threshold")
        parsed[role] = int(value)
    return policy_update_statement(
        view.ledger_id or "", policy, at, reason=reason, add=add,
        remove=[full_key_id(policy, k, "--remove") for k in removes],
        revoke=[full_key_id(policy, k, "--revoke") for k in revokes],
        thresholds=parsed,
    )
