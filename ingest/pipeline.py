"""One letter in, one case record out: sources → OCR → Document → fields → classifiers → timeline.

Library callers get `read_letter`; the CLI and the batch call the same function. The error policy
follows spaCy's: raise by default, or `errors="record"` to get a failed record instead, which is
what a batch wants so that one bad file never stops the others.

Every file runs inside limits (Options): its size, page count and pixels per page are checked
before the work (ingest.sources), each page's OCR has a deadline and the whole file another
(tesseract is killed when either passes), and running out of memory fails the file, not the
process. Page images for OCR live in a private temporary folder per file, removed afterwards
whatever happened.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from PIL import Image

from . import ocr, sources
from .document import Document, Page, build_lines, unlevel
from .errors import (
    FileTimeoutError,
    IngestError,
    MemoryLimitError,
    NoTextError,
    OcrTimeoutError,
    TesseractMissingError,
)
from .record import FIELD_NAMES, CaseRecord, ErrorInfo, Source
from .split import Part
from .split import split as split_letters

LetterInput = str | os.PathLike[str] | bytes | Image.Image
MIN_LETTER_WORDS = 8


@dataclass(slots=True)
class Options:
    """How to read; defaults suit a 300-DPI English letter on a small machine.

    The limits bound what one file may cost; past one, the file (or page) gets a clear error
    with a stable code instead of hanging or exhausting the machine:
    - `max_file_bytes`: larger files are refused before they are read (`file_too_large`);
    - `max_pages`: longer PDFs and multi-frame TIFFs are refused before any page is parsed
      (`too_many_pages`); a letter has a handful, a 50-page file is already a bundle;
    - `max_page_pixels`: a page over this many pixels (an image by its header, a PDF page by its
      size at 300 DPI) is not decoded or rendered (`page_too_large`). Pillow's own
      decompression-bomb guard stays at twice the default as a backstop;
    - `page_timeout` / `file_timeout`: seconds for one page's OCR and for the whole file; the
      tesseract process (group) is killed at either deadline (`ocr_timeout`, `file_timeout`).
      In batch workers a hard stop a little past `file_timeout` also interrupts whatever else
      runs (a PDF built to keep pdfminer busy for hours);
    - `max_worker_memory`: bytes of memory (RLIMIT_DATA) each batch worker process may use,
      tesseract included; past it the file fails (`memory_limit`, or `worker_crashed` when a
      native library dies instead of raising). None: no limit. Not applied to the calling
      process (`jobs=1` batches and library calls).
    `split`: look for several letters in one file (a stack through a sheet-fed scanner) and give
    each its own record (`read_file`, the CLI and the batch; see ingest.split).
    `tesseract_cmd` names another tesseract (default: the environment variable
    IRS_INGEST_TESSERACT, read here once, else `tesseract` on PATH); `temp_dir` is where the
    private per-file folders go (default: the system's temporary folder).
    """

    lang: str = "eng"
    page_timeout: float = 120.0
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    today: date | None = None
    file_timeout: float = 600.0
    max_pages: int = sources.MAX_PAGES
    max_file_bytes: int = sources.MAX_FILE_BYTES
    max_page_pixels: int = sources.MAX_PIXELS
    max_worker_memory: int | None = 2 * 1024**3
    tesseract_cmd: str | None = field(
        default_factory=lambda: os.environ.get(ocr.TESSERACT_ENV) or None
    )
    temp_dir: str | None = None
    split: bool = True

    @property
    def limits(self) -> sources.Limits:
        return sources.Limits(self.max_file_bytes, self.max_pages, self.max_page_pixels)


def read_letter(
    letter: LetterInput,
    *,
    options: Options | None = None,
    errors: Literal["raise", "record"] = "raise",
) -> CaseRecord:
    """Read one letter file (path), its bytes, or a PIL image, into a case record.

    The file is taken as one letter whatever it holds; `read_file` looks for several."""
    return read_file(letter, options=options, errors=errors, split=False)[0]


def read_file(
    letter: LetterInput,
    *,
    options: Options | None = None,
    errors: Literal["raise", "record"] = "raise",
    split: bool | None = None,
) -> list[CaseRecord]:
    """One record per letter in a file (path, bytes or PIL image), in page order.

    A file holding several letters (`split`, default `options.split`) gives records whose ids
    carry the page range; a file that fails gives one failed record (or raises)."""
    opts = options or Options()
    cut = opts.split if split is None else split
    path = None if isinstance(letter, bytes | Image.Image) else sources.display_path(letter)
    data = letter if isinstance(letter, bytes) else None
    deadline = time.monotonic() + opts.file_timeout
    try:
        src = _load(letter, opts)
        try:
            return _process(src, opts, deadline, cut)
        finally:
            src.close()
    except TesseractMissingError:
        raise
    except IngestError as exc:
        if errors == "raise":
            raise
        return [failed_record(data, path, exc)]
    except MemoryError:
        # Raised inside a worker whose memory is limited (or a machine that is full): the file
        # is too much for it. The text of the original error is dropped like every other's.
        error = MemoryLimitError(_memory_message())
        if errors == "raise":
            raise error from None
        return [failed_record(data, path, error)]


def read_document(letter: LetterInput, *, options: Options | None = None) -> Document:
    """The letter's text with layout (pages, lines, words with boxes), before any extraction."""
    opts = options or Options()
    deadline = time.monotonic() + opts.file_timeout
    src = _load(letter, opts)
    try:
        pages, errors = _read_pages(src, opts, deadline)
    finally:
        src.close()
    if errors and not pages:
        raise errors[0]
    return Document(pages)


def _load(letter: LetterInput, opts: Options) -> sources.Source:
    limits = opts.limits
    if isinstance(letter, Image.Image):
        return sources.from_image(letter, limits=limits)
    if isinstance(letter, bytes):
        return sources.load(letter, limits=limits)
    data = sources.read_bytes(Path(letter), limits.max_bytes)
    return sources.load(data, path=sources.display_path(letter), limits=limits)


def _memory_message() -> str:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_DATA)
    except (ImportError, OSError):  # not POSIX
        soft = -1
    if soft < 0 or soft == resource.RLIM_INFINITY:
        return "Reading the file ran out of memory"
    return f"Reading the file needed more than the worker's {soft // 2**20:,} MB of memory"


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


def _process(src: sources.Source, opts: Options, deadline: float, cut: bool) -> list[CaseRecord]:
    pages, page_errors = _read_pages(src, opts, deadline)
    doc = Document(pages)
    if sum(len(ln.words) for p in pages for ln in p.lines) < MIN_LETTER_WORDS:
        if page_errors:
            raise page_errors[0]
        raise NoTextError("No readable text was found on any page")
    parts = split_letters(doc)[0] if cut and len(pages) > 1 else [Part(pages)]
    records = letter_records(parts, opts.today)
    for part, record in zip(parts, records, strict=True):
        whole = len(parts) == 1
        first, last = (1, src.page_count) if whole else (part.first, part.last)
        record.id = src.sha256 if whole else f"{src.sha256}:p{first}-{last}"
        record.source = Source(
            path=src.path,
            sha256=src.sha256,
            media_type=src.media_type,
            pages=src.page_count,
            page_range=[first, last],
            text_source=Document(part.pages).text_source,
            letters_in_file=len(parts),
        )
    for part, record in zip(parts, records, strict=True):
        if len(parts) > 1 and sum(len(ln.words) for p in part.pages for ln in p.lines) < (
            MIN_LETTER_WORDS
        ):  # a letter in the stack whose pages hold print that OCR could not read
            err = NoTextError(f"No text could be read on pages {part.first}-{part.last}")
            record.errors.append(ErrorInfo(code=err.code, message=err.one_line(), page=part.first))
            record.status = "partial"
            record.review.needed = True
            record.review.reasons.insert(0, f"pages {part.first}-{part.last} could not be read")
    unread: dict[int, list[IngestError]] = {}
    for err in page_errors:  # with the letter the page sits in (or follows), else the first
        at = [
            k for k, r in enumerate(records) if (r.source.page_range or [1])[0] <= (err.page or 0)
        ]
        unread.setdefault(at[-1] if at else 0, []).append(err)
    for k, errs in unread.items():
        record = records[k]
        record.errors.extend(
            ErrorInfo(code=e.code, message=e.one_line(), page=e.page) for e in errs
        )
        record.status = "partial"
        record.review.needed = True
        record.review.reasons.append(f"{len(errs)} page(s) could not be read")
    return records


def letter_records(parts: list[Part], today: date | None = None) -> list[CaseRecord]:
    """A record for each letter of a cut document (id and source are the caller's to set);
    field pages are the file's page numbers, and a doubtful cut sends the letter to review."""
    from .assemble import assemble

    records = []
    for part in parts:
        record = assemble(part.document(), today)
        for name in FIELD_NAMES:
            value = getattr(record.fields, name)
            if value.page is not None and value.bbox is not None:
                x0, y0, x1, y1 = value.bbox  # the scan's frame, not the levelled page's
                box = unlevel((x0, y0, x1, y1), part.pages[value.page - 1])
                value.bbox = [round(v, 1) for v in box]
            value.page = part.page_number(value.page)
        if part.doubts:
            record.review.needed = True
            record.review.reasons.extend(part.doubts)
        records.append(record)
    return records


def _read_pages(
    src: sources.Source, opts: Options, deadline: float
) -> tuple[list[Page], list[IngestError]]:
    """Pages read, and an error for each page that was not (limits, timeouts, OCR failures)."""
    _sweep_once(opts.temp_dir)
    # A private folder only for files with pages to OCR: a text-layer letter writes no image.
    ocr_pages = any(p.fragments is None and p.error is None for p in src.pages)
    private = ocr.private_folder(opts.temp_dir) if ocr_pages else contextlib.nullcontext()
    with private as folder:

        def page_of(raw: sources.RawPage, result: ocr.OcrPage) -> Page:
            width, height = raw.width, raw.height
            if result.rotation in (90, 270):
                width, height = height, width
            lines = build_lines(result.fragments)
            return Page(
                raw.number,
                width,
                height,
                lines,
                "ocr",
                rotation=result.rotation,
                ink=result.ink,
                skew=result.skew,
            )

        def one(raw: sources.RawPage) -> Page | IngestError:
            if raw.error is not None:
                return raw.error
            if raw.fragments is not None:
                return Page(raw.number, raw.width, raw.height, build_lines(raw.fragments), "text")
            return together([raw])[0]

        def together(raws: list[sources.RawPage]) -> list[Page | IngestError]:
            """Pages to OCR, prepared one at a time (one bitmap in memory), then read by one
            tesseract run: each page past the first saves the run's start (~0.08 s)."""
            if deadline - time.monotonic() <= 0:
                return [_file_timeout(opts, raw.number) for raw in raws]
            assert folder is not None
            ready: list[ocr.Prepared | IngestError] = []
            for raw in raws:
                try:
                    image = raw.image  # decoded or rendered now, one page at a time
                    assert image is not None
                    ready.append(
                        ocr.prepare(image, scale=raw.scale, page=raw.number, folder=folder)
                    )
                except IngestError as exc:
                    ready.append(exc)
                finally:
                    raw.image = None  # free the bitmap as soon as it is prepared
            read = iter(
                ocr.read_prepared(
                    [r for r in ready if isinstance(r, ocr.Prepared)],
                    lang=opts.lang,
                    timeout=opts.page_timeout,
                    deadline=deadline,
                    cmd=opts.tesseract_cmd,
                    folder=folder,
                )
            )
            out: list[Page | IngestError] = []
            for raw, r in zip(raws, ready, strict=True):
                result = next(read) if isinstance(r, ocr.Prepared) else r
                if isinstance(result, ocr.OcrPage):
                    out.append(page_of(raw, result))
                elif isinstance(result, OcrTimeoutError) and deadline <= time.monotonic():
                    out.append(_file_timeout(opts, raw.number))
                else:
                    out.append(result)
            return out

        def in_order() -> list[Page | IngestError]:
            """Every page in order; runs of pages to OCR go to tesseract together."""
            results: list[Page | IngestError] = []
            waiting: list[sources.RawPage] = []
            for raw in src.pages:
                if raw.error is None and raw.fragments is None:
                    waiting.append(raw)
                    if len(waiting) == ocr.BATCH_PAGES:
                        results += together(waiting)
                        waiting = []
                    continue
                if waiting:
                    results += together(waiting)
                    waiting = []
                results.append(one(raw))
            return results + (together(waiting) if waiting else [])

        jobs = max(1, min(opts.jobs, len(src.pages)))
        if jobs == 1:
            results = in_order()
        else:
            pool = ThreadPoolExecutor(jobs)
            try:
                results = list(pool.map(one, src.pages))
            except BaseException:  # Ctrl-C: no new pages, and the running tesseracts die
                pool.shutdown(wait=False, cancel_futures=True)
                ocr.stop_all()
                raise
            pool.shutdown()
    pages = [r for r in results if isinstance(r, Page)]
    errors = [r for r in results if isinstance(r, IngestError)]
    return pages, errors


def _file_timeout(opts: Options, page: int) -> FileTimeoutError:
    return FileTimeoutError(
        f"Reading the file took longer than {opts.file_timeout:g} s; page {page} was not read",
        page=page,
    )


_swept: set[str | None] = set()
_swept_lock = threading.Lock()


def _sweep_once(parent: str | None) -> None:
    """Once per process: remove private folders that killed processes left behind."""
    with _swept_lock:
        if parent in _swept:
            return
        _swept.add(parent)
    ocr.sweep_stale(parent)
