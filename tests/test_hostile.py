"""Hostile and broken input, limits, faults, private data: the pipeline keeps going, loses
nothing and leaks nothing.

Every input is generated here, in memory or in tmp_path: no committed binaries. `KINDS` names
each kind of bad file with what its record must say; the same files are read one at a time and
then all together in one batch folder. A stand-in `tesseract` (a shell script put in place
through Options.tesseract_cmd or IRS_INGEST_TESSERACT) plays the hung, crashing or
worker-killing OCR engine.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageDraw, ImageFont

from ingest import errors, ocr, read_letter, sources
from ingest.batch import Batch, default_state, letter_files, run_batch
from ingest.cli import main
from ingest.errors import ExitCode, IngestError
from ingest.executors import LocalExecutor, Task, read_task
from ingest.pipeline import Options
from ingest.progress import Progress
from ingest.sinks import JsonlSink

ONE = Options(jobs=1)


# --- the inputs, generated in memory ----------------------------------------------------

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SSN = "123-45-6789"
LETTER = [
    "Department of the Treasury",
    "Internal Revenue Service",
    "Kansas City, MO 64999-0025",
    "Notice CP14",
    "Notice date January 30, 2018",
    "Tax year 2017",
    f"Social security number {SSN}",
    "JOHN Q SAMPLE",
    "You have unpaid taxes for 2017.",
    "Amount due: $1,075.21",
    "Pay by February 20, 2018",
]


# --- PDF written by hand, object by object: the shapes no PDF library would produce ---------


def raw_pdf(objects: list[bytes], *, root: int = 1, trailer: bytes = b"") -> bytes:
    """A PDF of these objects (1-based, in order) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\n" % (len(objects) + 1, root, trailer)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_content(lines: list[str]) -> bytes:
    """A content stream printing lines in Helvetica, one under the other."""
    ops = [b"BT /F1 11 Tf 72 720 Td 14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def pdf_pages(count: int, box: bytes = b"[0 0 612 792]", content: bytes | None = None) -> bytes:
    """`count` pages sharing one content stream (or none): a 2,000-page file is 200 KB."""
    first_page = 4 if content is not None else 3
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
    ]
    contents = b""
    if content is not None:
        objects.append(stream(zlib.compress(content), b"/Filter /FlateDecode "))
        contents = b"/Contents 3 0 R "
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox %s %s>>" % (box, contents)] * count
    return raw_pdf(objects)


def letter_pdf(lines: list[str] = LETTER, *, catalog_extra: bytes = b"", extra: list[bytes] = ()):
    """A one-page text-layer letter; `catalog_extra` and `extra` objects add active content."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream(text_content(lines)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *extra,
    ]
    return raw_pdf(objects)


def javascript_pdf() -> bytes:
    """Opens with JavaScript that would export and launch an attached program, and has a
    /Launch action on top: a reader that ran any of it would be compromised."""
    js = (
        b"<< /S /JavaScript /JS (app.alert\\('pwned'\\); "
        b"this.exportDataObject\\({cName: 'payload.exe', nLaunch: 2}\\);) >>"
    )
    return letter_pdf(
        catalog_extra=b"/OpenAction 6 0 R /AA << /WC 7 0 R >> "
        b"/Names << /JavaScript << /Names [(boot) 6 0 R] >> >> ",
        extra=[js, b"<< /S /Launch /F (/bin/sh) /Win << /F (cmd.exe) >> >>"],
    )


def attachment_pdf() -> bytes:
    """A letter carrying an embedded executable (a file attachment annotation's target)."""
    payload = b"MZ\x90\x00" + noise(2048, 5)
    return letter_pdf(
        catalog_extra=b"/Names << /EmbeddedFiles << /Names [(payload.exe) 6 0 R] >> >> ",
        extra=[
            b"<< /Type /Filespec /F (payload.exe) /UF (payload.exe) /EF << /F 7 0 R >> >>",
            stream(payload, b"/Type /EmbeddedFile /Subtype /application#2Fx-msdownload "),
        ],
    )


def page_tree_loop_pdf() -> bytes:
    return raw_pdf(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]
    )


def broken_xref_pdf() -> bytes:
    """Every offset in the cross-reference table is wrong; the objects themselves are fine."""
    data = letter_pdf()
    head, _, tail = data.partition(b"xref\n")
    lines = tail.split(b"\n")
    lines[2:8] = [b"%010d 00000 n " % (7 * i + 3) for i in range(6)]
    return head + b"xref\n" + b"\n".join(lines)


def image_xobject_pdf(width: int, height: int) -> bytes:
    """A letter-size page showing one bilevel image of width x height pixels (zlib: tiny)."""
    z = zlib.compressobj(9)
    row = b"\xff" * ((width + 7) // 8)
    data = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
            stream(b"q 612 0 0 792 0 0 cm /Im1 Do Q"),
            stream(
                data,
                b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                b"/BitsPerComponent 1 /Filter /FlateDecode " % (width, height),
            ),
        ]
    )


def rectangles_pdf(per_page: int, pages: int = 1) -> bytes:
    """Pages of `per_page` filled rectangles: a few KB that pdfminer needs minutes to parse."""
    return pdf_pages(pages, content=b"0 0 1 1 re f\n" * per_page)


def reportlab_pdf(lines: list[str] = LETTER, **kw: object) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, **kw)
    for i, line in enumerate(lines):
        c.drawString(72, 720 - 16 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def owner_password_pdf() -> bytes:
    """Encrypted with an owner password only: anyone may open it, as readers do."""
    from reportlab.lib import pdfencrypt

    enc = pdfencrypt.StandardEncryption("", ownerPassword="owner-only", canModify=0, canCopy=0)
    return reportlab_pdf(encrypt=enc)


# --- images ---------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def letter_image(lines: list[str] = LETTER, size: tuple[int, int] = (1700, 2200)) -> Image.Image:
    """A letter page at 200 DPI: small enough to OCR quickly, large enough to read well."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 30)
    for i, line in enumerate(lines):
        draw.text((150, 150 + 45 * i), line, font=font, fill=0)
    return image


def letter_png(lines: list[str] = LETTER) -> bytes:
    return encode(letter_image(lines), "PNG", dpi=(200, 200))


def noise_photo() -> bytes:
    """A photo-like picture (smooth random blotches), not a letter."""
    rng = np.random.default_rng(8)
    small = (rng.random((60, 80, 3)) * 255).astype("uint8")
    photo = Image.fromarray(small, "RGB").resize((1600, 1200), Image.BICUBIC)
    return encode(photo, "JPEG", quality=85)


def bilevel_png(width: int, height: int) -> bytes:
    """An all-white bilevel PNG written row by row: a 30,000 x 30,000 one is 110 KB on disk
    and 900 megapixels decoded, made without ever holding the pixels."""
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    z = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def bomb_png() -> bytes:
    """12,000 x 12,000 pixels: past our limit but under twice Pillow's, so that only our own
    check (not Pillow's backstop) stands between it and 144 MB of pixels."""
    return bilevel_png(12_000, 12_000)


def many_frames_tiff(frames: int) -> bytes:
    pages = [Image.new("L", (16, 16), 255) for _ in range(frames)]
    return encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])


def tiff_with_huge_frame() -> bytes:
    """Page 1 a letter, page 2 a 12,000 x 12,000 frame: page 1 is read, page 2 refused."""
    first = letter_image()
    huge = Image.new("1", (12_000, 12_000), 1)
    return encode(first, "TIFF", save_all=True, append_images=[huge], dpi=(200, 200))


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


# --- the kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of bad input: its file name, how to make it, what its record must say."""

    name: str
    build: Callable[[], bytes]
    codes: frozenset[str]  # acceptable first error codes; empty: must be read (ok/partial)
    status: frozenset[str] = frozenset({"failed"})


def _kind(
    name: str, build: Callable[[], bytes], *codes: str, status: set[str] | None = None
) -> Kind:
    status = status or ({"failed"} if codes else {"ok", "partial"})
    return Kind(name, build, frozenset(codes), frozenset(status))


def noise(n: int, seed: int = 0) -> bytes:
    """Random bytes, the same on every run."""
    return np.random.default_rng(seed).bytes(n)


KINDS: list[Kind] = [
    _kind("zero byte.pdf", lambda: b"", "empty_file"),
    _kind("truncated.pdf", lambda: truncated(reportlab_pdf(), 0.4), "corrupt_pdf"),
    _kind(
        "corrupt.pdf",
        lambda: b"%PDF-1.7\n1 0 obj << /Type /Catalog SSN 123-45-6789 " + noise(3000, 1),
        "corrupt_pdf",
    ),
    _kind("random-bytes.pdf", lambda: noise(4096, 2), "unsupported_type"),
    _kind("random-bytes.png", lambda: noise(4096, 3), "unsupported_type"),
    _kind("png-magic-then-junk.png", lambda: b"\x89PNG\r\n\x1a\n" + noise(500, 4), "corrupt_image"),
    _kind("truncated.png", lambda: truncated(letter_png(), 0.3), "corrupt_image"),
    _kind(
        "truncated.jpg",
        lambda: truncated(encode(letter_image(), "JPEG", quality=80), 0.3),
        "corrupt_image",
    ),
    _kind("password.pdf", lambda: reportlab_pdf(encrypt="s3cret"), "encrypted_pdf"),
    _kind("owner-password-only.pdf", owner_password_pdf),
    _kind("javascript.pdf", javascript_pdf),
    _kind("embedded-file.pdf", attachment_pdf),
    _kind("broken-xref.pdf", broken_xref_pdf, "corrupt_pdf", status={"failed", "ok"}),
    _kind("page-tree-loop.pdf", page_tree_loop_pdf, "corrupt_pdf"),
    _kind("2000 pages.pdf", lambda: pdf_pages(2000), "too_many_pages"),
    _kind("poster-200in.pdf", lambda: pdf_pages(1, b"[0 0 14400 14400]"), "page_too_large"),
    _kind("zero-size-page.pdf", lambda: pdf_pages(1, b"[0 0 0 0]"), "corrupt_pdf", "no_text"),
    _kind("huge-embedded-image.pdf", lambda: image_xobject_pdf(40_000, 40_000), "page_too_large"),
    _kind("200k-rectangles.pdf", lambda: rectangles_pdf(200_000), "page_too_complex"),
    _kind("30000x30000.png", lambda: bilevel_png(30_000, 30_000), "page_too_large"),
    _kind("decompression-bomb.png", bomb_png, "page_too_large"),
    _kind("500 frames.tiff", lambda: many_frames_tiff(500), "too_many_pages"),
    _kind("blank page.png", lambda: encode(Image.new("L", (1700, 2200), 255), "PNG"), "no_text"),
    _kind(
        "blank-scan.pdf",
        lambda: encode(Image.new("L", (1700, 2200), 255), "PDF", resolution=200.0),
        "no_text",
    ),
    _kind("no-text-layer-no-ink.pdf", lambda: pdf_pages(1), "no_text"),
    _kind("photo-not-a-letter.jpg", noise_photo, "no_text"),
    _kind(
        "tiff-with-huge-page.tiff",
        tiff_with_huge_frame,
        "page_too_large",
        status={"partial"},
    ),
    _kind("letter ünïcødé 通知.png", letter_png),
    _kind("letter\nwith newline.png", lambda: letter_png([*LETTER, "page 1 of 1"])),
]

TESSERACT = shutil.which("tesseract") or "tesseract"

# Every code a record or the CLI may carry, with the exit code each maps to. The ones that existed
# before this suite must never change (scripts and case systems match on them).
STABLE_CODES = {
    "internal_error": ExitCode.INTERNAL,
    "bad_input": ExitCode.BAD_INPUT,
    "file_not_found": ExitCode.BAD_INPUT,
    "unreadable_file": ExitCode.BAD_INPUT,
    "empty_file": ExitCode.BAD_INPUT,
    "unsupported_type": ExitCode.BAD_INPUT,
    "corrupt_pdf": ExitCode.BAD_INPUT,
    "encrypted_pdf": ExitCode.BAD_INPUT,
    "corrupt_image": ExitCode.BAD_INPUT,
    "no_text": ExitCode.NO_TEXT,
    "ocr_failed": ExitCode.OCR_FAILED,
    "ocr_timeout": ExitCode.OCR_FAILED,
    "tesseract_missing": ExitCode.MISSING_DEPENDENCY,
    "worker_crashed": ExitCode.INTERNAL,
    "batch_busy": ExitCode.USAGE,
    "bad_output": ExitCode.USAGE,
}
NEW_CODES = {
    "limit_exceeded": ExitCode.BAD_INPUT,
    "file_too_large": ExitCode.BAD_INPUT,
    "too_many_pages": ExitCode.BAD_INPUT,
    "page_too_large": ExitCode.BAD_INPUT,
    "page_too_complex": ExitCode.BAD_INPUT,
    "memory_limit": ExitCode.BAD_INPUT,
    "bad_file_name": ExitCode.BAD_INPUT,
    "file_timeout": ExitCode.OCR_FAILED,
    "output_unwritable": ExitCode.OUTPUT,
}


def error_classes() -> dict[str, type[IngestError]]:
    import ingest.batch
    import ingest.catalog
    import ingest.executors
    import ingest.sinks  # noqa: F401 - each defines error classes of its own

    found: dict[str, type[IngestError]] = {}
    todo: list[type[IngestError]] = [IngestError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


def test_error_codes_are_stable_and_new_ones_documented() -> None:
    classes = error_classes()
    for code, exit_code in {**STABLE_CODES, **NEW_CODES}.items():
        assert code in classes, code
        assert classes[code].exit_code == exit_code, code
    for kind in KINDS:
        assert kind.codes <= classes.keys(), kind.name


# --- one file at a time -------------------------------------------------------------------


def check(record: Any, kind: Kind) -> None:
    """A failed record with an expected code, or a record that was read."""
    assert record.status in kind.status, (kind.name, record.status, record.errors)
    codes = [e.code for e in record.errors]
    if record.status == "failed" or (kind.codes and record.status == "partial"):
        assert codes and set(codes) & kind.codes, (kind.name, codes)
    for e in record.errors:
        assert e.message and "Traceback" not in e.message
        assert SSN not in e.message and "123456789" not in e.message


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_each_bad_input_gets_a_record_with_a_stable_code(tmp_path: Path, kind: Kind) -> None:
    path = tmp_path / kind.name
    path.write_bytes(kind.build())
    started = time.monotonic()
    record = read_letter(path, options=ONE, errors="record")
    assert time.monotonic() - started < 30
    check(record, kind)
    assert record.source.path == str(path)
    if record.status == "failed":  # the library raises the same error, typed
        with pytest.raises(IngestError) as info:
            read_letter(path, options=ONE)
        assert info.value.code == record.errors[0].code
        assert SSN not in str(info.value)


def test_active_content_is_never_run(tmp_path: Path) -> None:
    """JavaScript, a launch action and an attached .exe: the letter is read as text, nothing
    is extracted or started (neither pdfplumber nor pdfium runs scripts or opens attachments)."""
    before = set(os.listdir(tmp_path))
    for build in (javascript_pdf, attachment_pdf):
        record = read_letter(build(), options=ONE)
        assert record.status == "ok" and record.notice.code == "CP14"
        assert record.fields.amount_due.value is not None
    assert set(os.listdir(tmp_path)) == before
    assert not list(Path.cwd().glob("payload.exe"))


def test_named_pipe_and_folder_are_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "scan.pdf"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came along
    started = time.monotonic()
    record = read_letter(fifo, errors="record")
    assert record.errors[0].code == "bad_input" and "not a regular file" in record.errors[0].message
    folder = tmp_path / "folder.pdf"
    folder.mkdir()
    assert read_letter(folder, errors="record").errors[0].code == "bad_input"
    assert time.monotonic() - started < 5


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(reportlab_pdf())
    deny(monkeypatch, locked)
    record = read_letter(locked, errors="record")
    assert record.errors[0].code == "unreadable_file"
    assert "Permission denied" in record.errors[0].message


def deny(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """Make these files unreadable: chmod where it works, else (root reads anything) an open
    that raises PermissionError exactly as the kernel would."""
    for path in paths:
        path.chmod(0)
    if os.geteuid() != 0:
        return
    denied = {os.fspath(p) for p in paths}
    real_open = os.open

    def fake_open(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if os.fspath(path) in denied:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(sources.os, "open", fake_open)


# --- limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: pdf_pages(2000), "too_many_pages"),
        (lambda: many_frames_tiff(500), "too_many_pages"),
        (lambda: bilevel_png(30_000, 30_000), "page_too_large"),
        (bomb_png, "page_too_large"),
        (lambda: pdf_pages(1, b"[0 0 14400 14400]"), "page_too_large"),
        (lambda: image_xobject_pdf(40_000, 40_000), "page_too_large"),
        (lambda: rectangles_pdf(200_000), "page_too_complex"),
    ],
    ids=["2000-page-pdf", "500-frame-tiff", "30000px", "png-bomb", "poster", "pdf-image", "rects"],
)
def test_limits_refuse_before_the_work(build: Any, code: str) -> None:
    """Refused from headers and counts, in well under a second: never rendered, never OCR'd."""
    data = build()
    started = time.monotonic()
    record = read_letter(data, options=ONE, errors="record")
    assert time.monotonic() - started < 3
    assert record.status == "failed" and record.errors[0].code == code
    assert "limit" in record.errors[0].message  # which limit, and by how much


def test_limits_follow_options(tmp_path: Path) -> None:
    three = pdf_pages(3, content=text_content(LETTER))
    big = tmp_path / "big.png"
    big.write_bytes(letter_png())

    record = read_letter(three, options=Options(jobs=1, max_pages=2), errors="record")
    assert record.errors[0].code == "too_many_pages"
    with pytest.raises(errors.TooManyPagesError, match="3 pages; the limit is 2"):
        read_letter(three, options=Options(jobs=1, max_pages=2))

    small = Options(jobs=1, max_file_bytes=big.stat().st_size - 1)
    with pytest.raises(errors.FileTooLargeError, match="the limit is"):
        read_letter(big, options=small)

    tiny = Options(jobs=1, max_page_pixels=1_000_000)
    with pytest.raises(errors.PageTooLargeError, match="1,700 x 2,200 pixels"):
        read_letter(big, options=tiny)


def test_a_file_over_the_size_limit_is_never_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as fh:  # sparse: 3 GB on paper, nothing on disk
        fh.truncate(3_000_000_000)
    started = time.monotonic()
    with pytest.raises(errors.FileTooLargeError, match=r"3,000.0 MB; the limit is 200.0 MB"):
        sources.read_bytes(path, Options().max_file_bytes)
    record = read_letter(path, errors="record")
    assert record.errors[0].code == "file_too_large"
    assert time.monotonic() - started < 1  # reading 3 GB would take far longer


def test_a_file_larger_than_it_said_is_cut_at_the_limit() -> None:
    """A file that grows while read, or says it has no size (as /proc files do), is read at
    most one byte past the limit."""
    with pytest.raises(errors.FileTooLargeError, match="grew past the limit of 100 bytes"):
        sources.read_bytes(Path("/proc/self/maps"), 100)


# --- stand-in tesseracts -----------------------------------------------------------------


def stand_in(folder: Path, body: str) -> Path:
    """An executable `tesseract` that runs `body` (sh); $PIDS lists the pids it started."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "tesseract"
    pids = folder / "pids"
    script.write_text(f'#!/bin/sh\nPIDS="{pids}"\necho $$ >> "$PIDS"\n{body}\n')
    script.chmod(0o755)
    return script


HANG = 'sleep 300 &\necho $! >> "$PIDS"\nwait'


def started_pids(script: Path) -> list[int]:
    pids = script.with_name("pids")
    return [int(p) for p in pids.read_text().split()] if pids.exists() else []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has stopped; only its parent's wait is missing


def assert_all_dead(script: Path) -> None:
    pids = started_pids(script)
    assert pids, "the stand-in never ran"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    assert not [p for p in pids if alive(p)], "a hung tesseract (or its child) survived"


def test_page_timeout_kills_a_hung_tesseract_and_its_children(tmp_path: Path) -> None:
    script = stand_in(tmp_path / "bin", HANG)
    temp = tmp_path / "tmp"
    temp.mkdir()
    opts = Options(jobs=1, page_timeout=1.0, tesseract_cmd=str(script), temp_dir=str(temp))
    started = time.monotonic()
    record = read_letter(letter_png(), options=opts, errors="record")
    assert time.monotonic() - started < 6
    assert record.status == "failed" and record.errors[0].code == "ocr_timeout"
    assert record.errors[0].page == 1 and "timed out after 1 s" in record.errors[0].message
    assert_all_dead(script)
    assert list(temp.iterdir()) == []  # the page image went with the private folder


def test_file_timeout_bounds_the_whole_file(tmp_path: Path) -> None:
    script = stand_in(tmp_path / "bin", HANG)
    pages = [letter_image() for _ in range(3)]
    tiff = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], dpi=(200, 200))
    opts = Options(jobs=1, page_timeout=60, file_timeout=1.5, tesseract_cmd=str(script))
    started = time.monotonic()
    record = read_letter(tiff, options=opts, errors="record")
    assert time.monotonic() - started < 6  # not 3 pages x 60 s
    assert record.status == "failed"
    assert [(e.code, e.page) for e in record.errors] == [("file_timeout", 1)]
    assert "longer than 1.5 s" in record.errors[0].message
    assert_all_dead(script)


def test_hard_deadline_stops_python_that_never_finishes() -> None:
    """A PDF under every per-page limit that pdfminer would parse for half a minute: the
    batch worker's own deadline interrupts it."""
    data = rectangles_pdf(15_000, pages=10)
    started = time.monotonic()
    (rec,), _ = read_task("slow.pdf", data, Options(jobs=1, file_timeout=1))
    assert time.monotonic() - started < 8
    assert rec["status"] == "failed" and rec["errors"][0]["code"] == "file_timeout"


def test_cli_takes_the_stand_in_from_the_environment(tmp_path: Path) -> None:
    script = stand_in(tmp_path / "bin", HANG)
    letter = tmp_path / "letter.png"
    letter.write_bytes(letter_png())
    env = {**os.environ, ocr.TESSERACT_ENV: str(script), "TMPDIR": str(tmp_path)}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "file", str(letter), "--page-timeout", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert time.monotonic() - started < 30
    assert proc.returncode == ExitCode.OCR_FAILED, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "irs-ingest: OCR timed out after 1 s. The page took too long to read; raise "
        "--page-timeout or re-scan at 300 DPI."
    ]
    assert_all_dead(script)
    assert not list(tmp_path.glob(f"{ocr.TEMP_PREFIX}*"))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (f'echo "Error: cannot read {SSN} here" >&2; exit 1', "***-**-6789"),
        ("kill -SEGV $$", "killed by SIGSEGV"),
        ("exit 0", "no output"),
    ],
    ids=["fails", "segfaults", "writes-nothing"],
)
def test_a_failing_tesseract_fails_the_page_with_a_masked_message(
    tmp_path: Path, body: str, words: str
) -> None:
    script = stand_in(tmp_path / "bin", body)
    record = read_letter(
        letter_png(), options=Options(jobs=1, tesseract_cmd=str(script)), errors="record"
    )
    assert record.errors[0].code == "ocr_failed"
    assert words in record.errors[0].message and SSN not in record.errors[0].message


def test_private_temp_folder_is_removed_after_success_and_sweeps_leftovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = temp / f"{ocr.TEMP_PREFIX}{dead.pid}-abc123"  # left by a worker killed with -9
    stale.mkdir()
    (stale / "p1-0.tif").write_bytes(b"II* page with an SSN on it")
    mine = temp / f"{ocr.TEMP_PREFIX}{os.getpid()}-inuse"  # a live process's: kept
    mine.mkdir()
    seen: list[list[str]] = []
    real_write = ocr._write_image

    def spy(image: Image.Image, stem: Path) -> Path:
        path = real_write(image, stem)
        seen.append([str(stem.parent), oct(stem.parent.stat().st_mode & 0o777)])
        return path

    monkeypatch.setattr(ocr, "_write_image", spy)
    import ingest.pipeline as pipeline

    monkeypatch.setattr(pipeline, "_swept", set())
    record = read_letter(letter_png(), options=Options(jobs=1, temp_dir=str(temp)))
    assert record.status == "ok"
    assert seen and all(mode == "0o700" for _, mode in seen)
    assert all(Path(folder).parent == temp for folder, _ in seen)
    assert sorted(p.name for p in temp.iterdir()) == [mine.name]  # its own folder went too


def test_ocr_output_is_the_same_as_pytesseract() -> None:
    """Our runner (TIFF into a private folder) reads the same words as pytesseract's (PNG into
    the shared temp folder): the same pixels reach tesseract."""
    import pytesseract

    image = letter_image()
    theirs = pytesseract.image_to_data(image, lang="eng", config="--psm 3")
    ours = ocr.ocr_page(image, scale=72 / 200, page=1)
    words = [w.text for line in ours.fragments for w in line]
    expected = [t for t in (row.split("\t")[-1].strip() for row in theirs.splitlines()[1:]) if t]
    assert words == expected


# --- a whole inbox of it --------------------------------------------------------------------


def lines_of(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_bad_inbox_every_file_gets_one_record_and_the_batch_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    expect: dict[str, Kind] = {}
    for kind in KINDS:
        (inbox / kind.name).write_bytes(kind.build())
        expect[kind.name] = kind
    extra = {
        "locked.pdf": ("unreadable_file",),
        "link to nowhere.pdf": ("file_not_found",),
        "loop-a.pdf": ("unreadable_file",),
        "loop-b.pdf": ("unreadable_file",),
        "good letter.png": (),
    }
    (inbox / "locked.pdf").write_bytes(reportlab_pdf())
    deny(monkeypatch, inbox / "locked.pdf")
    (inbox / "link to nowhere.pdf").symlink_to(inbox / "gone.pdf")
    (inbox / "loop-a.pdf").symlink_to(inbox / "loop-b.pdf")
    (inbox / "loop-b.pdf").symlink_to(inbox / "loop-a.pdf")
    (inbox / "good letter.png").write_bytes(letter_png(LETTER[:-1]))
    listed = [p.name for p in letter_files(inbox)]
    assert sorted(listed) == sorted([*expect, *extra])

    out = tmp_path / "out" / "cases.jsonl"
    result = run_batch(inbox, out, options=Options(jobs=2))
    records = lines_of(out)
    by_name = {Path(r["source"]["path"]).name: r for r in records}
    assert len(records) == len(listed) == result.files  # files without a record: 0
    assert sorted(by_name) == sorted(listed)
    for name, kind in expect.items():
        rec = by_name[name]
        codes = [e["code"] for e in rec["errors"]]
        assert rec["status"] in kind.status, (name, rec["status"], codes)
        if rec["status"] == "failed":
            assert set(codes) & kind.codes, (name, codes)
    for name, codes in extra.items():
        got = [e["code"] for e in by_name[name]["errors"]]
        assert got[:1] == list(codes), (name, got)
    assert "link that leads back to itself" in by_name["loop-a.pdf"]["errors"][0]["message"]
    assert "link to a file that does not exist" in str(by_name["link to nowhere.pdf"]["errors"])
    assert by_name["good letter.png"]["notice"]["code"] == "CP14"
    newline = "letter\nwith newline.png"
    assert by_name[newline]["source"]["path"] == str(inbox / newline)

    again = run_batch(inbox, out, options=Options(jobs=2))
    assert again.processed == 0 and len(lines_of(out)) == len(records)


def test_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    raw = os.fsencode(inbox) + b"/scan-\xff\xfe.png"
    with open(raw, "wb") as fh:
        fh.write(letter_png())
    out = tmp_path / "cases.jsonl"
    result = run_batch(inbox, out, options=ONE)
    (record,) = lines_of(out)
    assert record["errors"][0]["code"] == "bad_file_name"
    assert record["source"]["path"].endswith("scan-\\xff\\xfe.png")
    assert result.files == 1 and run_batch(inbox, out, options=ONE).processed == 0
    # One letter on its own is read: only the name in its record is escaped.
    one = CliRunner().invoke(main, ["file", os.fsdecode(raw), "--json"])
    assert one.exit_code == 0, one.output
    assert json.loads(one.output)["source"]["path"].endswith("scan-\\xff\\xfe.png")


class Meddler(Progress):
    """After the first letter is done, deletes one listed file and finishes writing another."""

    def __init__(self, delete: Path, grow: Path, rest: bytes) -> None:
        self.delete, self.grow, self.rest = delete, grow, rest

    def advance(self, rec: dict[str, Any]) -> None:
        if self.delete.exists():
            self.delete.unlink()
            with self.grow.open("ab") as fh:
                fh.write(self.rest)


def test_files_deleted_or_growing_during_the_batch(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a-empty.pdf").write_bytes(b"")
    (inbox / "b-deleted.pdf").write_bytes(reportlab_pdf(["soon gone"]))
    full = reportlab_pdf()
    (inbox / "c-growing.pdf").write_bytes(full[: len(full) // 2])  # still arriving when listed
    out = tmp_path / "cases.jsonl"
    meddler = Meddler(inbox / "b-deleted.pdf", inbox / "c-growing.pdf", full[len(full) // 2 :])
    result = run_batch(inbox, out, options=ONE, progress=meddler)
    by_name = {Path(r["source"]["path"]).name: r for r in lines_of(out)}
    assert result.files == 3 and len(by_name) == 3
    assert by_name["b-deleted.pdf"]["errors"][0]["code"] == "file_not_found"
    grown = by_name["c-growing.pdf"]
    assert grown["status"] == "ok" and grown["notice"]["code"] == "CP14"
    assert grown["source"]["sha256"] == hashlib.sha256(full).hexdigest()  # what was read
    again = run_batch(inbox, out, options=ONE)
    assert again.processed == 0 and again.files == 2


# --- faults: workers, output, Ctrl-C ---------------------------------------------------------


POISON_SIZE = (1000, 1000)


def test_a_worker_killed_mid_ocr_fails_only_its_file(tmp_path: Path) -> None:
    """The stand-in kills its own worker process (kill -9 on its parent) for one page size,
    and runs the real tesseract for the others."""
    poison = letter_image(["Notice CP14", "this page kills its worker"], size=POISON_SIZE)
    size = ocr._write_image(poison, tmp_path / "poison").stat().st_size  # as tesseract gets it
    body = f'[ "$(stat -c %s "$1")" = {size} ] && kill -9 $PPID\nexec "{TESSERACT}" "$@"'
    script = stand_in(tmp_path / "bin", body)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "poison.png").write_bytes(encode(poison, "PNG"))
    for i in range(3):
        (inbox / f"letter{i}.png").write_bytes(letter_png([*LETTER, f"copy {i}"]))
    out = tmp_path / "cases.jsonl"
    run_batch(inbox, out, options=Options(jobs=2, tesseract_cmd=str(script)))
    by_name = {Path(r["source"]["path"]).name: r for r in lines_of(out)}
    assert sorted(by_name) == ["letter0.png", "letter1.png", "letter2.png", "poison.png"]
    assert by_name["poison.png"]["errors"][0]["code"] == "worker_crashed"
    assert all(by_name[f"letter{i}.png"]["status"] == "ok" for i in range(3))


def test_worker_memory_is_bounded_and_a_file_past_it_fails_alone(tmp_path: Path) -> None:
    probe = LocalExecutor(2, worker=memory_report)
    try:
        (_, rec, _), *_ = list(probe.run([Task("x", "x", data=b"x")], Options(jobs=2)))
    finally:
        probe.close()
    assert rec["limit"] == Options().max_worker_memory  # the default reached the worker
    base = rec["data"]
    inbox = tmp_path / "in"
    inbox.mkdir()
    # 119 megapixels: under the pixel limit, but 119 MB as grayscale on top of the bilevel
    # frame: more than the worker may have once its libraries are loaded.
    (inbox / "big.png").write_bytes(bilevel_png(11_000, 10_800))
    (inbox / "letter.png").write_bytes(letter_png())
    out = tmp_path / "cases.jsonl"
    opts = Options(jobs=2, max_worker_memory=base + 80 * 2**20)
    run_batch(inbox, out, options=opts)
    by_name = {Path(r["source"]["path"]).name: r for r in lines_of(out)}
    assert by_name["letter.png"]["status"] == "ok"
    big = by_name["big.png"]["errors"][0]
    assert big["code"] in ("memory_limit", "worker_crashed"), big
    if big["code"] == "memory_limit":
        assert f"worker's {(base + 80 * 2**20) // 2**20:,} MB" in big["message"]


def memory_report(path: str, data: bytes, options: Options) -> tuple[dict[str, Any], float]:
    import resource

    status = Path("/proc/self/status").read_text()
    data_kb = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmData"))
    limit = resource.getrlimit(resource.RLIMIT_DATA)[0]
    return {"id": path, "status": "ok", "data": data_kb * 1024, "limit": limit}, 0.0


def test_full_disk_stops_with_a_clear_message_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for i in range(5):
        (inbox / f"{i}.pdf").write_bytes(b"%PDF-1.4 broken " + bytes([i]) * 100)
    out = tmp_path / "cases.jsonl"
    real_append = JsonlSink._append
    written: list[str] = []

    def append(self: JsonlSink, text: str) -> None:
        if len(written) == 2:  # the third record meets a full disk half-way through
            os.write(self._fd, text[:40].encode())
            raise OSError(errno.ENOSPC, "No space left on device")
        real_append(self, text)
        written.append(text)

    monkeypatch.setattr(JsonlSink, "_append", append)
    result = CliRunner().invoke(main, ["batch", str(inbox), "--out", str(out), "-j", "1"])
    assert result.exit_code == ExitCode.OUTPUT
    message = result.output.strip().splitlines()[-1]
    assert message.startswith(f"irs-ingest: Cannot write {out} (No space left on device)")
    assert "run the same command again to resume" in message
    assert "Traceback" not in result.output

    monkeypatch.setattr(JsonlSink, "_append", real_append)
    result = CliRunner().invoke(main, ["batch", str(inbox), "--out", str(out), "-j", "1"])
    assert result.exit_code == ExitCode.BATCH_FAILURES, result.output
    assert "3 read now, 2 already done" in result.output
    names = sorted(Path(r["source"]["path"]).name for r in lines_of(out))  # torn line cut
    assert names == [f"{i}.pdf" for i in range(5)]


@contextlib.contextmanager
def tmpfs(where: Path, size: str, *, readonly: bool = False) -> Iterator[Path]:
    """A real small filesystem (root and mount rights needed; the test skips otherwise)."""
    where.mkdir()
    opts = f"size={size}" + (",ro" if readonly else "")
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True
        )
    except OSError:
        pytest.skip("no mount command")
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + done.stderr.decode(errors="replace"))
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_real_full_disk_then_resume(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for i in range(8):
        (inbox / f"{i}.pdf").write_bytes(b"%PDF-1.4 broken " + bytes([i]) * 100)
    with tmpfs(tmp_path / "disk", "1m") as disk:
        filler = disk / "filler"
        # Leave about 120 KB: room for the manifest to start, not for the whole batch (its
        # write-ahead log alone takes some 12 KB a file).
        with filler.open("wb") as fh, contextlib.suppress(OSError):
            fh.write(b"\0" * (1024 * 1024 - 120 * 1024))
        out = disk / "cases.jsonl"
        first = subprocess.run(
            [sys.executable, "-m", "ingest.cli", "batch", str(inbox), "--out", str(out), "-j", "1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert first.returncode == ExitCode.OUTPUT, first.stderr
        assert "irs-ingest: Cannot write" in first.stderr and "Traceback" not in first.stderr
        assert len(lines_of(out)) < 8  # stopped part-way, every line whole
        filler.unlink()
        second = subprocess.run(
            [sys.executable, "-m", "ingest.cli", "batch", str(inbox), "--out", str(out), "-j", "1"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == ExitCode.BATCH_FAILURES, second.stderr
        names = sorted(Path(r["source"]["path"]).name for r in lines_of(out))
        assert names == [f"{i}.pdf" for i in range(8)]


def test_read_only_output_location(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "x.pdf").write_bytes(b"")
    if os.geteuid() != 0:
        place = tmp_path / "ro"
        place.mkdir()
        place.chmod(0o555)
        context: Any = contextlib.nullcontext(place)
    else:
        context = tmpfs(tmp_path / "ro", "64k", readonly=True)
    with context as place:
        out = place / "sub" / "cases.jsonl"
        result = CliRunner().invoke(main, ["batch", str(inbox), "--out", str(out)])
    assert result.exit_code == ExitCode.OUTPUT
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("irs-ingest: Cannot write") and "Traceback" not in result.output
    assert "Read-only file system" in line or "Permission denied" in line


def test_ctrl_c_stops_at_once_and_leaves_a_resumable_state(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while every worker
    is inside a hung tesseract: the batch stops in seconds, not at the page timeout, nothing
    it started survives, no page image is left, and the next run reads everything once."""
    script = stand_in(tmp_path / "bin", HANG)
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "0-empty.pdf").write_bytes(b"")
    for i in range(1, 4):
        (inbox / f"{i}.png").write_bytes(letter_png([*LETTER, f"copy {i}"]))
    out = tmp_path / "cases.jsonl"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, ocr.TESSERACT_ENV: str(script), "TMPDIR": str(temp)}
    args = [sys.executable, "-m", "ingest.cli", "batch", str(inbox), "--out", str(out), "-j", "2"]
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(started_pids(script)) < 4:  # 2 sh + 2 sleep
        time.sleep(0.1)
    assert len(started_pids(script)) >= 4, "the workers never reached tesseract"
    os.killpg(proc.pid, signal.SIGINT)
    stopped = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - stopped < 15
    assert proc.returncode == ExitCode.INTERRUPTED, stderr
    assert "irs-ingest: interrupted" in stderr.decode()
    assert_all_dead(script)
    assert not list(temp.glob(f"{ocr.TEMP_PREFIX}*"))
    records = lines_of(out) if out.exists() else []  # every line whole
    assert {Path(r["source"]["path"]).name for r in records} <= {"0-empty.pdf"}
    db = sqlite3.connect(default_state(out))
    states = dict(db.execute("SELECT path, state FROM files").fetchall())
    db.close()
    assert all(states[r["source"]["path"]] == "done" for r in records)
    assert {s for p, s in states.items() if p.endswith(".png")} <= {"queued"}

    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert again.returncode == ExitCode.BATCH_FAILURES, again.stderr
    names = sorted(Path(r["source"]["path"]).name for r in lines_of(out))
    assert names == ["0-empty.pdf", "1.png", "2.png", "3.png"]


def test_batch_of_one_process_is_bounded_too(tmp_path: Path) -> None:
    """With -j 1 the batch reads in its own process: the hard deadline still applies."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "slow.pdf").write_bytes(rectangles_pdf(15_000, pages=10))
    out = tmp_path / "cases.jsonl"
    with Batch(out, options=Options(jobs=1, file_timeout=1)) as batch:
        started = time.monotonic()
        batch.process(batch.files_under(inbox))
        assert time.monotonic() - started < 10
    (record,) = lines_of(out)
    assert record["errors"][0]["code"] == "file_timeout"


# --- private data ---------------------------------------------------------------------------

# The full numbers injected, in the forms letters and OCR produce them.
FULL_IDS = (
    "123-45-6789",
    "123 45 6789",
    "123456789",
    "12-3456789",
    "912-70-3456",
    "912 70 3456",
    "912703456",
)
INJECTED = [
    "Department of the Treasury",
    "Internal Revenue Service",
    "Notice CP14",
    "Notice date January 30, 2018",
    "Tax year 2017",
    "Social security number 123-45-6789",
    "Employer identification number 12-3456789",
    "Individual taxpayer identification number 912-70-3456",
    "Taxpayer ID 123 45 6789 or 912703456",
    "JOHN Q SAMPLE",
    "Amount due: $1,075.21",
    "Pay by February 20, 2018",
    "Write your SSN (123456789) and the tax year on your payment.",
]
# Anything shaped like a full SSN, ITIN or EIN: the masked forms (***-**-6789) never match.
ID_SHAPED = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{3}([ -])\d{2}\1\d{4}|\d{9}|\d{2}-\d{7})(?![0-9A-Za-z])"
)
HASH = re.compile(r"[0-9a-f]{64}")


def leaks(data: bytes, *, shapes: bool = True) -> list[str]:
    text = HASH.sub("", data.decode("utf-8", "replace"))
    found = [full for full in FULL_IDS if full in text]
    if shapes:
        found += [m.group() for m in ID_SHAPED.finditer(text)]
    return found


def file_leaks(path: Path) -> list[str]:
    """The full numbers in a file's bytes; for SQLite, also anything ID-shaped in its values
    (its raw pages run adjacent columns together: a date and an amount can look like an SSN)."""
    data = path.read_bytes()
    if not data.startswith(b"SQLite format 3"):
        return leaks(data, shapes=not path.name.endswith(("-wal", "-shm")))
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dump = "\n".join(db.iterdump()).encode()
    finally:
        db.close()
    return leaks(data, shapes=False) + leaks(dump)


def stamp(path: Path) -> None:
    """Print the full numbers at the foot of a generated raster letter's first page."""
    from PIL import ImageDraw, ImageFont

    image = Image.open(path)
    image.load()
    fmt = image.format
    page = image.convert("L")
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, max(16, page.width // 60))
    y = page.height - 4 * font.size
    draw.rectangle([0, y - 10, page.width, page.height], fill=255)
    draw.text((page.width // 12, y), "SSN 123-45-6789  EIN 12-3456789", font=font, fill=0)
    page.save(path, format=fmt, dpi=image.info.get("dpi", (300, 300)))


def test_no_full_ssn_ein_or_itin_leaves_the_pipeline(tmp_path: Path) -> None:
    """Generated letters plus letters printing full numbers (scan, text layer, image PDF,
    two-page TIFF, broken files), through the batch CLI and the file command: no output byte,
    log line, error message or temporary file keeps a full number."""
    from fixtures.generator import generate
    from fixtures.render import (
        images_to_pdf,
        layout_text_lines,
        pages_to_text_pdf,
        render_text_page,
        render_text_pages,
    )
    from ingest.sinks import CsvSink, SqliteSink

    generate(tmp_path / "gen", 6, 11, workers=1)
    inbox = tmp_path / "gen" / "letters"  # the letters only, not their labels
    for path in sorted(inbox.iterdir()):
        if path.suffix in (".png", ".jpg"):
            stamp(path)
    scan = render_text_page(INJECTED, dpi=300, seed=4)
    (inbox / "injected-scan.png").write_bytes(encode(scan, "PNG", dpi=(300, 300)))
    (inbox / "injected-text.pdf").write_bytes(pages_to_text_pdf(layout_text_lines(INJECTED)))
    (inbox / "injected-image.pdf").write_bytes(images_to_pdf([scan], 300))
    pages = render_text_pages([*INJECTED] * 5, dpi=200, seed=5)[:2]
    (inbox / "injected-2pages.tif").write_bytes(
        encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], dpi=(200, 200))
    )
    text_pdf = pages_to_text_pdf(layout_text_lines(INJECTED))
    (inbox / "injected-truncated.pdf").write_bytes(text_pdf[: len(text_pdf) // 2])
    (inbox / "injected-corrupt.pdf").write_bytes(b"%PDF-1.7\n(" + " ".join(INJECTED).encode())
    letters = list(inbox.iterdir())

    out = tmp_path / "out"
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}

    def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
        cmd = [sys.executable, "-m", "ingest.cli", *args]
        return subprocess.run(cmd, capture_output=True, env=env, timeout=600)

    batch = cli("batch", str(inbox), "--out", str(out / "cases.jsonl"), "-j", "2",
                "--quarantine", str(out / "quarantine"))  # fmt: skip
    assert batch.returncode == ExitCode.BATCH_FAILURES, batch.stderr
    records = lines_of(out / "cases.jsonl")
    assert sorted(r["source"]["path"] for r in records) == sorted(str(p) for p in letters)
    injected = [r for r in records if "injected-" in r["source"]["path"]]
    assert sum(r["status"] != "failed" for r in injected) == 4
    last4 = {r["fields"]["taxpayer_id_last4"]["value"] for r in injected if r["status"] == "ok"}
    assert "6789" in last4  # the number was read: only its last four digits were kept
    assert b"***-**-6789" in (out / "cases.jsonl").read_bytes()  # and masked in evidence

    csv_sink, db_sink = CsvSink(out / "cases.csv"), SqliteSink(out / "cases.sqlite")
    for rec in records:
        csv_sink.write(rec)
        db_sink.write(rec)
    csv_sink.close()
    db_sink.close()
    runs = [
        batch,
        cli("file", str(inbox / "injected-text.pdf")),
        cli("file", str(inbox / "injected-text.pdf"), "--json"),
        cli("file", str(inbox / "injected-truncated.pdf")),
        cli("file", str(inbox / "injected-scan.png"), "--json", "--page-timeout", "0.01"),
    ]
    assert runs[-1].returncode == ExitCode.OCR_FAILED  # an error path, for its message

    scanned = 0
    found: dict[str, list[str]] = {}
    outputs = [p for p in out.rglob("*") if p.is_file()]
    for path in outputs:
        if path.parent.name == "quarantine" and path.suffix != ".json":
            continue  # a copy of the input file itself, kept aside on purpose
        scanned += path.stat().st_size
        if file_leaks(path):
            found[str(path)] = file_leaks(path)
    for i, run in enumerate(runs):
        for name, data in (("stdout", run.stdout), ("stderr", run.stderr)):
            scanned += len(data)
            if leaks(data):
                found[f"run {i} {name}"] = leaks(data)
    assert {p.suffix for p in outputs} >= {".jsonl", ".csv", ".sqlite", ".json"}
    assert scanned > 50_000 and found == {}
    assert list(temp.iterdir()) == []  # no page image (or anything else) left behind
