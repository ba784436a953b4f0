import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SPEC_VECTORS = REPO / "docs" / "spec" / "vectors"
SHARED_VECTORS = Path(os.environ.get("HELM_SHARED_DIR", REPO.parent / "shared")) / "vectors"


def shared(*parts: str) -> Path:
    """A file of ../shared/vectors, or a skip that says how to get it."""
    p = SHARED_VECTORS.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not found: third-party vectors are skipped (set HELM_SHARED_DIR)")
    return p
