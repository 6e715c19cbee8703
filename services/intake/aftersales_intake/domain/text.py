"""Unicode clean-up shared by the normalisers."""

from __future__ import annotations

import unicodedata


def halfwidth(text: str) -> str:
    """Full-width digits, letters and signs (１３８, ＡＢ, ＋) become their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)
