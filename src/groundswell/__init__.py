"""groundswell: measure a hashtag movement across platforms and languages, honestly and safely."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import GroundswellError  # noqa: E402

__all__ = ["GroundswellError", "__version__"]
