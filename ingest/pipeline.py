"""One letter in, one case record out: sources → OCR → Document → fields → classifiers → timeline.

Library callers get `read_letter`; the CLI and the batch call the same function. The error policy
follows spaCy's: raise by default, or `errors="record"` to get a failed record instead, which is
what a batch wants so that one bad file never stops the others.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from PIL import Image

from . import ocr, sources
from .document import Document, Page, build_lines
from .errors import IngestError, NoTextError, OcrError, TesseractMissingError
from .record import CaseRecord, ErrorInfo, Source

LetterInput = str | os.PathLike[str] | bytes | Image.Image
MIN_LETTER_WORDS = 8


@dataclass(slots=True)
class Options:
    """How to read; defaults suit a 300-DPI English letter on a small machine."""

    lang: str = "eng"
    page_timeout: float = 120.0
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    today: date | None = None


def read_letter(
    letter: LetterInput,
    *,
    options: Options | None = None,
    errors: Literal["raise", "record"] = "raise",
) -> CaseRecord:
    """Read one letter file (path), its bytes, or a PIL image, into a case record."""
    opts = options or Options()
    path = None if isinstance(letter, bytes | Image.Image) else str(letter)
    try:
        return _process(_load(letter), opts)
    except TesseractMissingError:
        raise
    except IngestError as exc:
        if errors == "raise":
            raise
        return failed_record(letter if isinstance(letter, bytes) else None, path, exc)


def read_document(letter: LetterInput, *, options: Options | None = None) -> Document:
    """The letter's text with layout (pages, lines, words with boxes), before any extraction."""
    pages, errors = _read_pages(_load(letter), options or Options())
    if errors and not pages:
        raise errors[0]
    return Document(pages)


def _load(letter: LetterInput) -> sources.Source:
    if isinstance(letter, Image.Image):
        return sources.from_image(letter)
    if isinstance(letter, bytes):
        return sources.load(letter)
    return sources.load(sources.read_bytes(Path(letter)), path=str(letter))


def iter_letters(
    letters: Iterable[LetterInput], *, options: Options | None = None
) -> Iterator[CaseRecord]:
    """Records for many letters, failures as failed records (the batch error policy)."""
    for letter in letters:
        yield read_letter(letter, options=options, errors="record")


def failed_record(data: bytes | None, path: str | None, exc: IngestError) -> CaseRecord:
    key = data if data is not None else f"unread:{path}".encode()
    digest = hashlib.sha256(key).hexdigest()
    return CaseRecord(
        id=digest,
        source=Source(path=path, sha256=digest),
        status="failed",
        errors=[ErrorInfo(code=exc.code, message=exc.one_line(), page=exc.page)],
    )


def _process(src: sources.Source, opts: Options) -> CaseRecord:
    pages, page_errors = _read_pages(src, opts)
    doc = Document(pages)
    if sum(len(ln.words) for p in pages for ln in p.lines) < MIN_LETTER_WORDS:
        if page_errors:
            raise page_errors[0]
        raise NoTextError("No readable text was found on any page")
    from .assemble import assemble

    record = assemble(doc, opts.today)
    record.id = src.sha256
    record.source = Source(
        path=src.path,
        sha256=src.sha256,
        media_type=src.media_type,
        pages=src.page_count,
        page_range=[1, src.page_count],
        text_source=doc.text_source,
    )
    for err in page_errors:
        record.errors.append(ErrorInfo(code=err.code, message=err.one_line(), page=err.page))
    if page_errors:
        record.status = "partial"
        record.review.needed = True
        record.review.reasons.append(f"{len(page_errors)} page(s) could not be read")
    return record


def _read_pages(src: sources.Source, opts: Options) -> tuple[list[Page], list[OcrError]]:
    def one(raw: sources.RawPage) -> Page | OcrError:
        if raw.fragments is not None:
            return Page(raw.number, raw.width, raw.height, build_lines(raw.fragments), "text")
        assert raw.image is not None
        try:
            result = ocr.ocr_page(
                raw.image,
                scale=raw.scale,
                page=raw.number,
                lang=opts.lang,
                timeout=opts.page_timeout,
            )
        except TesseractMissingError:
            raise
        except OcrError as exc:
            return exc
        finally:
            raw.image = None  # free the bitmap as soon as it is read
        width, height = raw.width, raw.height
        if result.rotation in (90, 270):
            width, height = height, width
        lines = build_lines(result.fragments)
        return Page(raw.number, width, height, lines, "ocr", rotation=result.rotation)

    jobs = max(1, min(opts.jobs, len(src.pages)))
    if jobs == 1:
        results = [one(p) for p in src.pages]
    else:
        with ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(one, src.pages))
    pages = [r for r in results if isinstance(r, Page)]
    errors = [r for r in results if isinstance(r, OcrError)]
    return pages, errors
