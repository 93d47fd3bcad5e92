"""Shared fixtures. Real data lives in ../shared/data beside the repo; tests that need it skip without it."""
from pathlib import Path
import pytest
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA
