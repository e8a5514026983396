"""Turn a file (path, bytes or PIL image) into pages: text-layer words or an image to OCR.

The type comes from magic bytes, never the extension: mailroom scanners and users rename files.
A PDF page whose text layer holds real text is read straight from it (fast, exact); otherwise the
page is rendered at 300 DPI for OCR, as paperless-ngx and OCRmyPDF do.

Whatever arrives is bounded before the expensive work (`Limits`): the file's size is checked
before it is read, the page count before any page is parsed, and each page's pixels before it
is decoded or rendered (a PDF page from its size in points at 300 DPI, an image from its
header). A PDF page is also counted by pdfium before pdfplumber parses it in Python: a page of
a million drawing objects (3 KB of PDF) is refused in a second instead of parsed for minutes.
Pages needing OCR are decoded or rendered lazily, one at a time when `.image` is first read, so
a worker holds one page bitmap per OCR thread instead of every page of the file (50 pages at
300 DPI: 139 MB peak instead of 544 MB).
"""

from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import re
import stat
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from .document import Word
from .errors import (
    BadInputError,
    CorruptImageError,
    CorruptPdfError,
    EmptyFileError,
    EncryptedPdfError,
    FileMissingError,
    FileTooLargeError,
    IngestError,
    PageTooComplexError,
    PageTooLargeError,
    TooManyPagesError,
    UnreadableFileError,
    UnsupportedTypeError,
)
from .imaging import grey, median_level, without_colour

RENDER_DPI = 300
# A scanned PDF page is read at its own resolution when that is between these (see _native).
NATIVE_MIN_DPI = 150
# A page "has a text layer" when it holds at least this many letters and digits, and most of its
# words look like words (scanner software sometimes leaves a few garbage glyphs behind).
MIN_TEXT_CHARS = 40
MIN_WORDLIKE_RATIO = 0.5
# Default limits (Options overrides them per run). A letter is a few pages of 8.5 x 11 inches:
# 8.4 megapixels at 300 DPI. A 40-megapixel phone photo is fine; a page of 30,000 x 30,000
# pixels is not a letter, and neither is a PDF of 2,000 pages.
MAX_FILE_BYTES = 200_000_000
MAX_PAGES = 150  # a scanned stack of a dozen letters, back sides included
MAX_PIXELS = 120_000_000
# What pdfium finds on a PDF page before pdfplumber parses it in Python (about 4,000 objects a
# second, each kept in memory): a letter page holds under a few hundred drawing objects and about
# 5,000 characters. A 3 KB PDF can hold a million rectangles, which would take pdfplumber minutes
# and gigabytes; pdfium counts them in a second.
MAX_PAGE_OBJECTS = 20_000
MAX_PAGE_CHARS = 100_000
# Pillow's decompression-bomb guard, set on purpose: it warns past MAX_PIXELS and refuses past
# twice that when a file is opened. Our own check (Limits.max_pixels, from the image header)
# runs first with a clear message; Pillow's stays as the backstop for anything that bypasses it.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

_WORDLIKE = re.compile(r"^[\w$€£().,:;'\"/%&#-]+$")
# pdfium is not thread-safe, not even across documents: every call into it takes this lock.
_PDFIUM = threading.Lock()


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file may cost before it is refused: bytes, pages, pixels per page."""

    max_bytes: int = MAX_FILE_BYTES
    max_pages: int = MAX_PAGES
    max_pixels: int = MAX_PIXELS


DEFAULT_LIMITS = Limits()

# What a lazy page returns once decoded: the upright grayscale image, its size in points, and
# points per image pixel.
Rendered = tuple[Image.Image, float, float, float]


class RawPage:
    """One page before OCR: text-layer fragments, an image to read, or why it cannot be read.

    An image page is decoded or rendered when `.image` is first read (and only then), so the
    bitmaps of a long file never all sit in memory; setting `.image = None` frees it.
    """

    __slots__ = ("number", "width", "height", "fragments", "scale", "error", "_image", "_render")

    def __init__(
        self,
        number: int,
        width: float,
        height: float,
        fragments: list[list[Word]] | None = None,
        image: Image.Image | None = None,
        scale: float = 1.0,
        *,
        render: Callable[[], Rendered] | None = None,
        error: IngestError | None = None,
    ) -> None:
        self.number = number
        self.width = width  # points
        self.height = height  # points
        self.fragments = fragments
        self.scale = scale  # points per image pixel
        self.error = error  # set: this page is not read, and this says why
        self._image = image
        self._render = render

    @property
    def image(self) -> Image.Image | None:
        if self._image is None and self._render is not None:
            render, self._render = self._render, None
            self._image, self.width, self.height, self.scale = render()
        return self._image

    @image.setter
    def image(self, value: Image.Image | None) -> None:
        self._image = value
        self._render = None

    def __repr__(self) -> str:
        kind = "text" if self.fragments is not None else "error" if self.error else "image"
        return f"RawPage({self.number}, {kind}, {self.width:.0f}x{self.height:.0f} pt)"


@dataclass(slots=True)
class Source:
    media_type: str
    sha256: str
    page_count: int
    path: str | None = None
    pages: list[RawPage] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Release the open document behind lazy pages (also done when garbage-collected)."""
        for page in self.pages:
            page.image = None
        while self.closers:
            self.closers.pop()()


def sniff(head: bytes) -> str:
    """Media type from the first bytes of a file."""
    if not head:
        raise EmptyFileError("The file is empty (0 bytes)")
    if head.lstrip()[:5] == b"%PDF-" or b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return TIFF
    raise UnsupportedTypeError("The file is not a PDF, PNG, JPEG or TIFF")


def display_path(path: str | os.PathLike[str]) -> str:
    """The path as text any record, log line or database can hold: bytes of a file name that
    are not UTF-8 (Python keeps them as lone surrogates) become \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def read_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, refused unread when larger than max_bytes.

    Opened without blocking and checked before reading, so a named pipe, a device or a folder in
    the inbox gives an error instead of a hang, and a huge file is never read into memory. A file
    still growing is read up to one byte past the limit, so it cannot slip past it either.
    """
    name = path.name or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileMissingError(f"{name} is a link to a file that does not exist") from None
        raise FileMissingError(f"No such file: {name}") from None
    except IsADirectoryError:
        raise BadInputError(f"{name} is a folder, not a file") from None
    except PermissionError:
        raise UnreadableFileError(f"Permission denied reading {name}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableFileError(f"{name} is a link that leads back to itself") from None
        raise UnreadableFileError(f"Cannot read {name}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise BadInputError(f"{name} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(
                f"{name} is not a regular file (a pipe, socket or device)",
                hint="Only regular files are read.",
            )
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileTooLargeError(
                f"{name} is {_size(info.st_size)}; the limit is {_size(max_bytes)} per file"
            )
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object owns it now
            data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
    except OSError as exc:
        raise UnreadableFileError(f"Cannot read {name}: {exc.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:
        raise FileTooLargeError(
            f"{name} grew past the limit of {_size(max_bytes)} per file while it was read"
        )
    return data


def load(data: bytes, *, path: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Source:
    """Sniff and open; pages are prepared here, OCR happens later in ingest.ocr."""
    if len(data) > limits.max_bytes:
        raise FileTooLargeError(
            f"The file is {_size(len(data))}; the limit is {_size(limits.max_bytes)} per file"
        )
    media_type = sniff(data[:1024])
    digest = hashlib.sha256(data).hexdigest()
    src = Source(media_type, digest, 0, path)
    try:
        src.pages = (
            _pdf_pages(data, limits, src) if media_type == PDF else _image_pages(data, limits, src)
        )
    except BaseException:
        src.close()
        raise
    src.page_count = len(src.pages)
    return src


def from_image(image: Image.Image, *, limits: Limits = DEFAULT_LIMITS) -> Source:
    """A PIL image handed in by a library caller: hash its pixels, as there are no file bytes."""
    pixels = image.width * image.height
    if pixels > limits.max_pixels:
        error = _too_many_pixels(1, image.width, image.height, limits)
        return Source("image/x-pil", _pixel_digest(image), 1, None, [RawPage(1, 0, 0, error=error)])
    digest = hashlib.sha256(image.tobytes()).hexdigest()
    page = RawPage(1, 0, 0, render=partial(_upright, 1, image))
    page.image  # noqa: B018 - the caller's image is in memory already: convert it now
    return Source("image/x-pil", digest, 1, None, [page])


def _pixel_digest(image: Image.Image) -> str:
    """A hash for an image too large to hash pixel by pixel: its size, mode and a sample."""
    sample = image.resize((64, 64)) if image.width and image.height else image
    head = f"{image.mode}:{image.width}x{image.height}:".encode()
    return hashlib.sha256(head + sample.tobytes()).hexdigest()


def _size(n: int) -> str:
    return f"{n / 1_000_000:,.1f} MB" if n >= 1_000_000 else f"{n:,} bytes"


def _too_many_pixels(
    number: int, width: float, height: float, limits: Limits, what: str = ""
) -> PageTooLargeError:
    mp = width * height / 1_000_000
    return PageTooLargeError(
        f"{what or f'Page {number} is'} {width:,.0f} x {height:,.0f} pixels ({mp:,.0f} "
        f"megapixels); the limit is {limits.max_pixels / 1_000_000:,.0f} megapixels per page",
        page=number,
    )


def _open_pdfium(data: bytes) -> object | None:
    """The document in pdfium (None when pdfium cannot open it); a password is an error."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            return pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise EncryptedPdfError("The PDF is password-protected") from None
            return None


def _pdf_pages(data: bytes, limits: Limits, src: Source) -> list[RawPage]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    # pdfium counts pages from the page tree without parsing them, so a file of 2,000 pages is
    # refused in milliseconds instead of after pdfplumber has built 2,000 page objects.
    rendered = _open_pdfium(data)
    if rendered is not None:
        src.closers.append(partial(_close_pdfium, rendered))
        _check_pages(len(rendered), limits, "The PDF")  # type: ignore[arg-type]
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        plumber_pages = pdf.pages
    except (IngestError, MemoryError):
        raise
    except Exception as exc:  # pdfminer raises a zoo of types for broken files
        _unwrap(exc)
        if _is_encryption_error(exc, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise EncryptedPdfError("The PDF is password-protected") from None
        raise CorruptPdfError("The PDF cannot be opened (damaged or truncated)") from None
    pages: list[RawPage] = []
    try:
        if not plumber_pages:
            raise CorruptPdfError("The PDF has no pages")
        _check_pages(len(plumber_pages), limits, "The PDF")
        for i, page in enumerate(plumber_pages, start=1):
            width, height = float(page.width), float(page.height)
            problem = _inspect_pdf_page(rendered, i, limits) if rendered is not None else None
            if problem is not None:
                pages.append(RawPage(i, width, height, error=problem))
                continue
            fragments = _text_layer(page)
            page.close()  # pdfplumber caches every object of a page it has read
            if fragments is not None:
                pages.append(RawPage(i, width, height, fragments=fragments))
                continue
            if rendered is None:
                raise CorruptPdfError("The PDF cannot be rendered (damaged)")
            pages.append(_pdf_image_page(rendered, i, width, height, limits))
    except (IngestError, MemoryError):
        raise
    except Exception as exc:
        _unwrap(exc)
        raise CorruptPdfError("The PDF is damaged: a page could not be read") from None
    finally:
        pdf.close()
    return pages


def _check_pages(count: int, limits: Limits, what: str) -> None:
    if count > limits.max_pages:
        raise TooManyPagesError(f"{what} has {count:,} pages; the limit is {limits.max_pages}")


def _inspect_pdf_page(doc: object, number: int, limits: Limits) -> IngestError | None:
    """Why a PDF page must not be parsed or rendered, from what pdfium sees, or None."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    with _PDFIUM:
        page = doc[number - 1]  # type: ignore[index]
        try:  # keep `page` referenced while its raw handle is used
            objects = pdfium_c.FPDFPage_CountObjects(page.raw)
            if objects > MAX_PAGE_OBJECTS:
                return PageTooComplexError(
                    f"Page {number} holds {objects:,} drawing objects; a letter page holds a few "
                    f"hundred (limit {MAX_PAGE_OBJECTS:,})",
                    page=number,
                )
            text = page.get_textpage()
            try:
                chars = text.count_chars()
            finally:
                text.close()
            if chars > MAX_PAGE_CHARS:
                return PageTooComplexError(
                    f"Page {number} holds {chars:,} characters; a letter page holds a few "
                    f"thousand (limit {MAX_PAGE_CHARS:,})",
                    page=number,
                )
            meta = pdfium_c.FPDF_IMAGEOBJ_METADATA()
            for k in range(objects):
                obj = pdfium_c.FPDFPage_GetObject(page.raw, k)
                if pdfium_c.FPDFPageObj_GetType(obj) != pdfium_c.FPDF_PAGEOBJ_IMAGE:
                    continue
                if not pdfium_c.FPDFImageObj_GetImageMetadata(obj, page.raw, ctypes.byref(meta)):
                    continue
                if meta.width * meta.height > limits.max_pixels:
                    what = f"Page {number} holds an image of"
                    return _too_many_pixels(number, meta.width, meta.height, limits, what)
        finally:
            page.close()
    return None


def _pdf_image_page(
    doc: object, number: int, width: float, height: float, limits: Limits
) -> RawPage:
    """A page to render at 300 DPI, refused when that bitmap would be past the pixel limit."""
    with _PDFIUM:
        page = doc[number - 1]  # type: ignore[index]
        try:
            pw, ph = page.get_size()
        finally:
            page.close()
    zoom = RENDER_DPI / 72
    px_w, px_h = pw * zoom, ph * zoom
    if not (px_w >= 1 and px_h >= 1 and math.isfinite(px_w * px_h)):
        return RawPage(
            number,
            width,
            height,
            error=CorruptPdfError(f"Page {number} has no usable size", page=number),
        )
    if px_w * px_h > limits.max_pixels:
        what = (
            f"Page {number} is {pw / 72:,.0f} x {ph / 72:,.0f} inches: at {RENDER_DPI} DPI that is"
        )
        return RawPage(
            number, width, height, error=_too_many_pixels(number, px_w, px_h, limits, what)
        )
    return RawPage(
        number, width, height, render=partial(_render_pdf_page, doc, number, width, height)
    )


def _scanned_image(page: Any) -> Any | None:
    """The page's one image when the page is nothing but a scan laid over it, upright, at no
    more than 300 DPI: its own pixels are what tesseract should read. Rendering it at 300 DPI
    would upsample a 200-DPI scan or fax (2.25 times the pixels for tesseract, and smeared
    strokes that read worse) and cost a render. Anything else is rendered: other objects on the
    page, a turned page, a matrix that turns, flips or shears, a scan finer than 300 DPI."""
    import pypdfium2.raw as pdfium_c

    if page.get_rotation() or pdfium_c.FPDFPage_CountObjects(page) != 1:
        return None
    obj = next(iter(page.get_objects()), None)
    if obj is None or obj.type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    a, b, c, d, e, f = obj.get_matrix().get()
    pw, ph = page.get_size()
    px_w, px_h = obj.get_px_size()
    if b or c or a <= 0 or d <= 0 or px_w < 1 or px_h < 1:
        return None
    if a < 0.97 * pw or d < 0.97 * ph or abs(e) > 0.03 * pw or abs(f) > 0.03 * ph:
        return None
    dpi_x, dpi_y = px_w * 72 / a, px_h * 72 / d
    if not (NATIVE_MIN_DPI <= dpi_x <= RENDER_DPI + 5 and abs(dpi_x - dpi_y) < 0.02 * dpi_x):
        return None
    return obj


def _render_pdf_page(doc: object, number: int, width: float, height: float) -> Rendered:
    try:
        with _PDFIUM:
            page = doc[number - 1]  # type: ignore[index]
            try:
                image = _native(page)
                if image is None:
                    bitmap = page.render(scale=RENDER_DPI / 72, grayscale=True)
                    image = bitmap.to_pil()  # shares the bitmap's Python-owned buffer
                    bitmap.close()  # here, under the lock, not in a finalizer on another thread
            finally:
                page.close()
    except (IngestError, MemoryError):
        raise
    except Exception:
        raise CorruptPdfError(
            f"Page {number} of the PDF cannot be rendered (damaged)", page=number
        ) from None
    return image, width, height, width / image.width


def _native(page: Any) -> Image.Image | None:
    """The scan's own pixels in grey (see _scanned_image), or None to render the page."""
    obj = _scanned_image(page)
    if obj is None:
        return None
    bitmap = obj.get_bitmap(render=False)
    try:
        image = bitmap.to_pil()
        image = image.copy() if image.mode in ("1", "L") else without_colour(image)
    finally:
        bitmap.warn_on_close = False  # pdfium's own buffer, safe: the pixels were copied out
        bitmap.close()
    # A decode array or mask that pdfium applies only when rendering could leave the paper
    # dark: then the rendered page is the truth.
    pixels = grey(image)
    if median_level((pixels.reduce(8) if min(pixels.size) >= 64 else pixels).histogram()) < 128:
        return None
    return image


def _close_pdfium(doc: object) -> None:
    with _PDFIUM:
        doc.close()  # type: ignore[attr-defined]


def _is_encryption_error(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    return _inner(exc, kinds) is not None


def _inner(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The exception of one of these kinds that `exc` wraps (pdfplumber wraps what pdfminer
    raises, even our own deadline or a MemoryError), or None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kinds):
            return seen
        for arg in seen.args:
            if isinstance(arg, kinds):
                return arg
        seen = seen.__cause__ or seen.__context__
    return None


def _unwrap(exc: BaseException) -> None:
    """Re-raise our own error or a MemoryError that a PDF library wrapped in its own type."""
    inner = _inner(exc, (IngestError, MemoryError))
    if inner is not None:
        raise inner from None


def _text_layer(page: object) -> list[list[Word]] | None:
    """Text-layer words grouped into baseline fragments, or None when the layer is not usable."""
    from pdfplumber.utils.text import WordExtractor

    words = WordExtractor(keep_blank_chars=False, use_text_flow=False).extract_words(
        _layer_chars(page)
    )
    chars = sum(sum(c.isalnum() for c in w["text"]) for w in words)
    if chars < MIN_TEXT_CHARS:
        return None
    wordlike = sum(bool(_WORDLIKE.match(w["text"])) for w in words)
    if wordlike / len(words) < MIN_WORDLIKE_RATIO:
        return None
    fragments: list[list[Word]] = []
    last_top: float | None = None
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        word = Word(w["text"], (w["x0"], w["top"], w["x1"], w["bottom"]), 1.0, "text")
        if last_top is not None and abs(w["top"] - last_top) <= 2.0:
            fragments[-1].append(word)
        else:
            fragments.append([word])
            last_top = w["top"]
    return fragments


def _layer_chars(page: Any) -> list[dict[str, Any]]:
    """The page's characters as pdfplumber's `page.chars` has them, for its word extractor.

    `page.chars` interprets the page into pdfminer objects (every line and box included), then
    turns each into a dict of some thirty attributes: three quarters of the time of a text-layer
    letter. pdfplumber's interpreter with a device that keeps only characters, as dicts of the
    attributes words are made from, gives the same words four times faster.
    """
    from pdfminer.pdfinterp import PDFPageInterpreter

    device = _char_device()(page.pdf.rsrcmgr)
    PDFPageInterpreter(page.pdf.rsrcmgr, device).process_page(page.page_obj)
    # As pdfplumber's Page.process_object: origin top-left, adjusted for the MediaBox.
    height = page.height
    mb_x0, mb_top = page.mediabox[:2]
    doctop0 = page.initial_doctop
    chars: list[dict[str, Any]] = []
    for text, upright, x0, y0, x1, y1 in device.chars:
        top = (height - y1) + mb_top
        if mb_x0 != 0:
            x0, x1 = x0 + mb_x0, x1 + mb_x0
        chars.append(
            {
                "text": text,
                "upright": upright,
                "x0": x0,
                "x1": x1,
                "top": top,
                "bottom": (height - y0) + mb_top,
                "doctop": doctop0 + top,
            }
        )
    return chars


def preload_pdf() -> None:
    """Import what reading a PDF needs now rather than on the first PDF (forkserver warm-up)."""
    import pdfplumber  # noqa: F401
    import pypdfium2  # noqa: F401
    from pdfminer import pdfinterp  # noqa: F401

    _char_device()


@cache
def _char_device() -> type:
    """The device class, made on first use so that pdfminer is imported only for a PDF."""
    from pdfminer.converter import PDFLayoutAnalyzer
    from pdfminer.pdffont import PDFUnicodeNotDefined

    class CharDevice(PDFLayoutAnalyzer):
        """Keeps each character's text, uprightness and box, in drawing order, and nothing else.

        `render_char` is pdfminer's, with the arithmetic of its LTChar inlined: building an
        LTChar per character (and a line or box object per drawing) costs more than the rest.
        tests/test_sources.py checks the words against pdfplumber's own extract_words.
        """

        def __init__(self, rsrcmgr: Any) -> None:
            super().__init__(rsrcmgr, pageno=1, laparams=None)
            self.chars: list[tuple[str, bool, float, float, float, float]] = []

        def paint_path(self, *args: Any, **kwargs: Any) -> None:
            """Lines and boxes are not text."""

        def render_image(self, *args: Any, **kwargs: Any) -> None:
            """Neither are images."""

        def render_char(
            self,
            matrix: tuple[float, float, float, float, float, float],
            font: Any,
            fontsize: float,
            scaling: float,
            rise: float,
            cid: int,
            ncs: Any,
            graphicstate: Any,
        ) -> float:
            try:
                text = font.to_unichr(cid)
            except PDFUnicodeNotDefined:
                text = self.handle_undefined_char(font, cid)
            adv = font.char_width(cid) * fontsize * scaling
            if font.is_vertical():
                vx, vy = font.char_disp(cid)
                vx = fontsize * 0.5 if vx is None else vx * fontsize * 0.001
                vy = (1000 - vy) * fontsize * 0.001
                bbox = (-vx, vy + rise + adv, -vx + fontsize, vy + rise)
            else:
                descent = font.get_descent() * fontsize
                bbox = (0, descent + rise, adv, descent + rise + fontsize)
            # pdfminer's apply_matrix_rect, inlined: the box of the four corners, transformed.
            a, b, c, d, e, f = matrix
            x0, y0, x1, y1 = bbox
            left1, bottom1 = a * x0 + c * y0 + e, b * x0 + d * y0 + f
            right1, bottom2 = a * x1 + c * y0 + e, b * x1 + d * y0 + f
            right2, top1 = a * x1 + c * y1 + e, b * x1 + d * y1 + f
            left2, top2 = a * x0 + c * y1 + e, b * x0 + d * y1 + f
            self.chars.append(
                (
                    text,
                    a * d * scaling > 0 and b * c <= 0,
                    min(left1, left2, right1, right2),
                    min(bottom1, bottom2, top1, top2),
                    max(left1, left2, right1, right2),
                    max(bottom1, bottom2, top1, top2),
                )
            )
            return adv

    return CharDevice


def _image_pages(data: bytes, limits: Limits, src: Source) -> list[RawPage]:
    """One lazy page per frame; frame count and each frame's size come from the headers."""
    try:
        with warnings.catch_warnings():
            # Pillow warns past MAX_IMAGE_PIXELS on open; the size is checked below, with a
            # clear error instead of a warning on stderr.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
        count = getattr(img, "n_frames", 1)
        _check_pages(count, limits, "The image")
        src.closers.append(img.close)
        lock = threading.Lock()  # the frames share one file object and one frame pointer
        pages: list[RawPage] = []
        for i in range(count):
            if i:
                img.seek(i)
            w, h = img.size
            scale = _scale(img)
            if w * h > limits.max_pixels:
                error = _too_many_pixels(i + 1, w, h, limits)
                pages.append(RawPage(i + 1, w * scale, h * scale, error=error))
            else:
                frame = partial(_decode_frame, img, i, lock)
                pages.append(RawPage(i + 1, w * scale, h * scale, scale=scale, render=frame))
        return pages
    except Image.DecompressionBombError:
        raise PageTooLargeError(
            f"The image is over {2 * MAX_PIXELS // 1_000_000} megapixels, "
            "past the decompression-bomb limit"
        ) from None
    except (IngestError, MemoryError):
        raise
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, struct.error...
        raise CorruptImageError("The image cannot be decoded (damaged or truncated)") from None


def _decode_frame(img: Image.Image, index: int, lock: threading.Lock) -> Rendered:
    try:
        with lock:
            img.seek(index)
            img.load()
            return _upright(index + 1, img)
    except (IngestError, MemoryError):
        raise
    except Exception:
        raise CorruptImageError(
            f"Page {index + 1} of the image cannot be decoded (damaged or truncated)",
            page=index + 1,
        ) from None


def _upright(number: int, frame: Image.Image) -> Rendered:
    """Upright grayscale page; coordinates scaled so the page is in points."""
    image = ImageOps.exif_transpose(frame)
    if image.mode not in ("L", "1"):
        image = without_colour(image)
    scale = _scale(frame, image.width)
    return image, image.width * scale, image.height * scale, scale


def _scale(image: Image.Image, width: int | None = None) -> float:
    """Points per pixel: from the DPI, or (phone photos) assuming a sheet 8.5 inches wide."""
    dpi = _dpi(image)
    return 72 / dpi if dpi else 612 / max(1, width or image.width)


def _dpi(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        x = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    return x if 70 <= x <= 1200 else None
