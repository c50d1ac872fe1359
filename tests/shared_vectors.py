"""Where the public test vectors live: ``../shared/vectors/`` beside the repository.

Missing vectors are a failure, never a skip.
"""

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"


def vector_path(name: str) -> Path:
    """Path of a file or directory under the shared vectors; fails if it is missing."""
    path = VECTORS / name
    assert path.exists(), f"test vectors missing: {path}"
    return path


def load_vector(name: str) -> Any:
    """A JSON vector file, parsed."""
    return json.loads(vector_path(name).read_text(encoding="utf-8"))
