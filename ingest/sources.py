"""Turn a file (path, bytes or PIL image) into pages: text-layer words or an image to OCR.

The type comes from magic bytes, never the extension: mailroom scanners and users rename files.
A PDF page whose text layer holds real text is read straight from it (fast, exact); otherwise the
page is rendered at 300 DPI for OCR, as paperless-ngx and OCRmyPDF do.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from .document import Word
from .errors import (
    BadInputError,
    CorruptImageError,
    CorruptPdfError,
    EmptyFileError,
    EncryptedPdfError,
    FileMissingError,
    UnreadableFileError,
    UnsupportedTypeError,
)

RENDER_DPI = 300
# A page "has a text layer" when it holds at least this many letters and digits, and most of its
# words look like words (scanner software sometimes leaves a few garbage glyphs behind).
MIN_TEXT_CHARS = 40
MIN_WORDLIKE_RATIO = 0.5
# Pillow's decompression-bomb guard, set on purpose: a 40-megapixel phone photo is fine; a page
# of 30,000 x 30,000 pixels is not a letter.
MAX_PIXELS = 120_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

_WORDLIKE = re.compile(r"^[\w$€£().,:;'\"/%&#-]+$")


@dataclass(slots=True)
class RawPage:
    """One page before OCR: either text-layer fragments or an image to read."""

    number: int
    width: float  # points
    height: float  # points
    fragments: list[list[Word]] | None = None
    image: Image.Image | None = None
    scale: float = 1.0  # points per image pixel


@dataclass(slots=True)
class Source:
    media_type: str
    sha256: str
    page_count: int
    path: str | None = None
    pages: list[RawPage] = field(default_factory=list)


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


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileMissingError(f"No such file: {path.name}") from None
    except IsADirectoryError:
        raise BadInputError(f"{path.name} is a folder, not a file") from None
    except PermissionError:
        raise UnreadableFileError(f"Permission denied reading {path.name}") from None
    except OSError as exc:
        raise UnreadableFileError(f"Cannot read {path.name}: {exc.strerror}") from None


def load(data: bytes, *, path: str | None = None) -> Source:
    """Sniff and open; pages are prepared here, OCR happens later in ingest.ocr."""
    media_type = sniff(data[:1024])
    digest = hashlib.sha256(data).hexdigest()
    pages = list(_pdf_pages(data) if media_type == PDF else _image_pages(data))
    return Source(media_type, digest, len(pages), path, pages)


def from_image(image: Image.Image) -> Source:
    """A PIL image handed in by a library caller: hash its pixels, as there are no file bytes."""
    digest = hashlib.sha256(image.tobytes()).hexdigest()
    page = _image_page(1, image)
    return Source("image/x-pil", digest, 1, None, [page])


def _pdf_pages(data: bytes) -> Iterator[RawPage]:
    import pdfplumber
    import pypdfium2 as pdfium
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        plumber_pages = pdf.pages
    except Exception as exc:  # pdfminer raises a zoo of types for broken files
        if _is_encryption_error(exc, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise EncryptedPdfError("The PDF is password-protected") from None
        raise CorruptPdfError("The PDF cannot be opened (damaged or truncated)") from None
    if not plumber_pages:
        raise CorruptPdfError("The PDF has no pages")
    rendered: pdfium.PdfDocument | None = None
    try:
        for i, page in enumerate(plumber_pages, start=1):
            width, height = float(page.width), float(page.height)
            fragments = _text_layer(page)
            if fragments is not None:
                yield RawPage(i, width, height, fragments=fragments)
                continue
            if rendered is None:
                try:
                    rendered = pdfium.PdfDocument(data)
                except pdfium.PdfiumError as exc:
                    if "password" in str(exc).lower():
                        raise EncryptedPdfError("The PDF is password-protected") from None
                    raise CorruptPdfError("The PDF cannot be rendered (damaged)") from None
            bitmap = rendered[i - 1].render(scale=RENDER_DPI / 72, grayscale=True)
            image = bitmap.to_pil()
            yield RawPage(i, width, height, image=image, scale=width / image.width)
    except BadInputError:
        raise
    except Exception:
        raise CorruptPdfError("The PDF is damaged: a page could not be read") from None
    finally:
        pdf.close()
        if rendered is not None:
            rendered.close()


def _is_encryption_error(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kinds) or any(isinstance(a, kinds) for a in seen.args):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _text_layer(page: object) -> list[list[Word]] | None:
    """Text-layer words grouped into baseline fragments, or None when the layer is not usable."""
    words = page.extract_words(keep_blank_chars=False, use_text_flow=False)  # type: ignore[attr-defined]
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


def _image_pages(data: bytes) -> Iterator[RawPage]:
    try:
        img = Image.open(io.BytesIO(data))
        # The iterator seeks one Image object frame by frame: take each page before moving on.
        for i, frame in enumerate(ImageSequence.Iterator(img), start=1):
            frame.load()
            yield _image_page(i, frame)
    except Image.DecompressionBombError:
        raise CorruptImageError(
            f"The image is larger than {MAX_PIXELS // 1_000_000} megapixels"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise CorruptImageError("The image cannot be decoded (damaged or truncated)") from None


def _image_page(number: int, frame: Image.Image) -> RawPage:
    """Upright grayscale page; coordinates scaled so the page is in points."""
    image = ImageOps.exif_transpose(frame)
    if image.mode not in ("L", "1"):
        image = image.convert("L")
    dpi = _dpi(frame)
    # Without a trustworthy DPI (phone photos) assume the sheet is 8.5 inches wide.
    scale = 72 / dpi if dpi else 612 / image.width
    return RawPage(number, image.width * scale, image.height * scale, image=image, scale=scale)


def _dpi(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        x = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    return x if 70 <= x <= 1200 else None
