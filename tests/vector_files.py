"""Where the public test vectors live: ``tests/vectors/`` in this repository.

They are copies of public conformance data (RFC 8785, RFC 8032, Wycheproof, RFC 6962 /
transparency-dev, C2SP); ``tests/vectors/README.md`` and each file's ``source`` name the
repository, path and commit they were taken from. The suite reads nothing outside the
repository, so a clone anywhere passes. Missing vectors are a failure, never a skip.
"""

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parent / "vectors"


def vector_path(name: str) -> Path:
    """Path of a file or directory under the vectors; fails if it is missing."""
    path = VECTORS / name
    assert path.exists(), f"test vectors missing: {path}"
    return path


def load_vector(name: str) -> Any:
    """A JSON vector file, parsed."""
    return json.loads(vector_path(name).read_text(encoding="utf-8"))
