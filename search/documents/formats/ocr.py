"""OCR of scanned PDF pages through ``tesseract``, when it is installed with Japanese data.

Optional by design: sakuin downloads nothing and needs no OCR to run. When the
``tesseract`` command and its ``jpn`` data (Debian ``tesseract-ocr-jpn``; with
``jpn_vert`` for vertical writing) are there, a page without a text layer is
rendered at 300 dpi and read by it; the summary says how many pages were read
so. Otherwise such a PDF is reported as scanned.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

import pypdfium2 as pdfium

#: Seconds one page's OCR may take.
OCR_SECONDS = 120


@functools.cache
def _languages() -> str | None:
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    try:
        listed = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    langs = set(listed.stdout.split())
    if "jpn" not in langs:
        return None
    return "jpn+jpn_vert" if "jpn_vert" in langs else "jpn"


def ocr_available() -> bool:
    """Whether ``tesseract`` with Japanese data is installed."""
    return _languages() is not None


def ocr_page(pdf: pdfium.PdfDocument, number: int) -> str:
    """The text of page ``number`` (0-based) as tesseract reads it ("" when it fails)."""
    languages = _languages()
    exe = shutil.which("tesseract")
    if languages is None or exe is None:
        return ""
    page = pdf[number]
    try:
        image = page.render(scale=300 / 72).to_pil()
    finally:
        page.close()
    data = io.BytesIO()
    image.save(data, "PNG")
    try:
        done = subprocess.run(
            [exe, "stdin", "stdout", "-l", languages],
            input=data.getvalue(),
            capture_output=True,
            timeout=OCR_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    text = done.stdout.decode("utf-8", "replace")
    # tesseract separates Japanese characters with spaces: a space between two of them is none.
    import re

    return re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])", "", text)


__all__ = ["ocr_available", "ocr_page"]
