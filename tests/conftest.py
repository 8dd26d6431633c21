"""Shared fixtures: the real third-party data in ../shared/fixtures (skipped where absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """Root of ../shared/fixtures; tests using it skip on a user's clone where it is absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"real reference data not found at {SHARED_FIXTURES} (only present in the project's CI)")
    return SHARED_FIXTURES
