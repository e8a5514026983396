"""Cut a scanned stack into one PDF per letter, for people who file letters, not scans.

The cut is the one the records use (ingest.split on the read pages). PDF pages are copied as
they are (pypdfium2 imports them, no re-rendering, so nothing is lost); image files (TIFF frames,
PNG, JPEG) become image PDFs at the resolution they were scanned at.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence

from . import sources
from .errors import CorruptImageError, OutputWriteError
from .pipeline import Options, read_file
from .record import CaseRecord


@dataclass(slots=True)
class Piece:
    path: Path
    record: CaseRecord


def split_file(source: Path, out_dir: Path, *, options: Options | None = None) -> list[Piece]:
    """Read SOURCE, cut it into letters and write each to OUT_DIR as `<stem>_p<a>-<b>.pdf`."""
    opts = options or Options()
    records = read_file(source, options=opts, errors="raise", split=True)
    data = sources.read_bytes(source, opts.max_file_bytes)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputWriteError(f"Cannot create {out_dir}: {exc.strerror}") from None
    pieces: list[Piece] = []
    for record in records:
        first, last = record.source.page_range or [1, record.source.pages]
        target = out_dir / f"{source.stem}_p{first}-{last}.pdf"
        body = pages_as_pdf(data, record.source.media_type, first, last)
        try:
            target.write_bytes(body)
        except OSError as exc:
            raise OutputWriteError(f"Cannot write {target}: {exc.strerror}") from None
        pieces.append(Piece(target, record))
    return pieces


def pages_as_pdf(data: bytes, media_type: str | None, first: int, last: int) -> bytes:
    """Pages FIRST..LAST (1-based, inclusive) of a PDF or image file, as a PDF of their own."""
    if media_type == "application/pdf":
        import pypdfium2 as pdfium

        src = pdfium.PdfDocument(data)
        try:
            out = pdfium.PdfDocument.new()
            out.import_pages(src, list(range(first - 1, last)))
            buf = io.BytesIO()
            out.save(buf)
            out.close()
        finally:
            src.close()
        return buf.getvalue()
    try:
        with Image.open(io.BytesIO(data)) as im:
            frames = [f.copy() for f in ImageSequence.Iterator(im)][first - 1 : last]
            dpi = im.info.get("dpi", (300, 300))
    except (OSError, ValueError) as exc:
        raise CorruptImageError(f"Cannot copy the image's pages ({type(exc).__name__})") from None
    frames = [f if f.mode in ("1", "L", "RGB") else f.convert("RGB") for f in frames]
    buf = io.BytesIO()
    frames[0].save(
        buf, "PDF", save_all=True, append_images=frames[1:], resolution=float(dpi[0] or 300)
    )
    return buf.getvalue()
