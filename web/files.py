"""Originals and page thumbnails: ``/files/<doc_id>`` and ``/thumbs/<page>/<doc_id>``.

``/files/<doc_id>`` serves a document's original read-only, as the index knows
it: only a file the live version lists, confined to the folder it was indexed
from (``sakuin.search.documents.originals``). Anything else (an unknown id, a
symbolic link out of the folder, a file gone since) is the same 404 as a missing
document, so the answer never tells a denied file from a missing one. A PDF is
shown in the browser (a hit's link adds ``#page=N``, which every PDF viewer
opens at that page); every other format is offered for download, and text
formats are never served as HTML, so a page of the collection cannot run script
on this site.

``/thumbs/<page>/<doc_id>?q=…`` is a PNG of one page of a PDF with the query's
matches on it boxed (the matched words as the document page marks them, found
in the page's text: ``sakuin.search.documents.formats.pdf.render_page``). Pages
are rendered on demand and kept in a cache bounded in bytes
(``THUMBNAIL_CACHE_MB``), per server process.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

from flask import Blueprint, Response, request, send_file

from sakuin.search.config import THUMBNAIL_WIDTH, document_limits, thumbnail_cache_bytes
from sakuin.search.documents.formats.pdf import render_page
from sakuin.search.documents.originals import Original, read_original
from sakuin.search.errors import QuerySyntaxError, UnreadableFile
from sakuin.web.common import engine
from sakuin.web.errors import error_response

bp = Blueprint("files", __name__)

#: A served original's own policy: a PDF opens in the browser's viewer (which an ``object-src
#: 'none'`` would block); nothing served may frame this site or be framed.
ORIGINAL_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'none'"


def _not_found() -> Response:
    return error_response(404, "document_not_found/page")


def _original(doc_id: str) -> tuple[Original, bytes] | None:
    original = engine().original(doc_id)
    if original is None:
        return None
    data = read_original(original, int(document_limits()["file_bytes"]))
    return None if data is None else (original, data)


@bp.get("/files/<docid:doc_id>")
def original_file(doc_id: str) -> Response:
    found = _original(doc_id)
    if found is None:
        return _not_found()
    original, data = found
    inline = original.file_type == "pdf"
    response = send_file(
        io.BytesIO(data),
        mimetype=original.media_type,
        as_attachment=not inline,
        download_name=original.name,
        max_age=0,
    )
    response.headers["Content-Security-Policy"] = ORIGINAL_CSP
    response.headers["Cache-Control"] = "private, no-cache"
    return response


class _Thumbnails:
    """Rendered PNGs by (version, document, page, words), least recently used dropped past the budget."""

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self.nbytes = 0
        self.lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> bytes | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: tuple[object, ...], png: bytes) -> None:
        budget = thumbnail_cache_bytes()
        with self.lock:
            if key in self.items or len(png) > budget:
                return
            self.items[key] = png
            self.nbytes += len(png)
            while self.nbytes > budget and self.items:
                _, dropped = self.items.popitem(last=False)
                self.nbytes -= len(dropped)


THUMBNAILS = _Thumbnails()


def page_words(doc_id: str, q: str, page: int) -> list[str]:
    """The query's matched words on ``page`` of a paged document, as its text spells them."""
    if not q.strip():
        return []
    doc = engine().document(doc_id)
    if doc is None:
        return []
    try:
        spans = engine().section_spans(doc_id, q)
    except QuerySyntaxError:
        return []
    words: list[str] = []
    for section in doc.sections:
        for start, end in spans.get(section.ordinal, {}).get("body", []):
            if section.page_at(start) == page:
                words.append(section.text[start:end])
    return list(dict.fromkeys(words))


@bp.get("/thumbs/<int:page>/<docid:doc_id>")
def thumbnail(page: int, doc_id: str) -> Response:
    found = _original(doc_id)
    if found is None or found[0].file_type != "pdf":
        return _not_found()
    data = found[1]
    q = request.args.get("q", "")[:1000]
    words = page_words(doc_id, q, page)
    key = (engine().version, doc_id, page, tuple(words))
    png = THUMBNAILS.get(key)
    if png is None:
        try:
            png = render_page(data, page, THUMBNAIL_WIDTH, words)
        except (IndexError, UnreadableFile):
            return _not_found()
        THUMBNAILS.put(key, png)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


__all__ = ["ORIGINAL_CSP", "THUMBNAILS", "bp", "page_words"]
