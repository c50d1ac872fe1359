"""Schema patterns have ECMA-262 semantics: a final "$" does not match before a newline."""

import pytest

from ledger.errors import SchemaError
from ledger.validation import fast_validator, validate

STATEMENT = "urn:violence-scoring-ledger:v1:statement"
GOOD = {"v": 1, "type": "org.register", "time": "2026-01-01T00:00:00Z", "ledger": "ab" * 32, "body": {}}


@pytest.mark.parametrize("field", ["time", "ledger", "type"])
def test_trailing_newline_is_rejected_by_both_validators(field: str) -> None:
    validate(STATEMENT, GOOD)  # the unmodified statement passes
    bad = dict(GOOD, **{field: GOOD[field] + "\n"})
    fast = fast_validator(STATEMENT)
    assert fast is not None and fast(bad) is False
    with pytest.raises(SchemaError, match=rf"\$\.{field}: .* does not match"):
        validate(STATEMENT, bad)
