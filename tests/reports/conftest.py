from __future__ import annotations

import io

import pytest
from pypdf import PdfReader


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Each test's report files in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, pages joined, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
