"""Sources: type from content, text layer or OCR, every TIFF frame, EXIF orientation, bad input."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from ingest import errors, sources

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "letters"
TEXT = [
    "Department of the Treasury",
    "Internal Revenue Service",
    "Notice CP14 Tax year 2017",
    "Notice date January 30, 2018",
    "Amount due: $1,075.21",
]


def text_pdf(lines: list[str] = TEXT, *, encrypt: str | None = None, pages: int = 1) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, encrypt=encrypt)
    for _ in range(pages):
        for i, line in enumerate(lines):
            c.drawString(72, 720 - 16 * i, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def page_image(lines: list[str] = TEXT, size: tuple[int, int] = (2550, 3300)) -> Image.Image:
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 40)
    for i, line in enumerate(lines):
        draw.text((200, 200 + 60 * i), line, font=font, fill=0)
    return img


def encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("head", "media"),
    [
        (b"%PDF-1.7\n", sources.PDF),
        (b"\x89PNG\r\n\x1a\n....", sources.PNG),
        (b"\xff\xd8\xff\xe0", sources.JPEG),
        (b"II*\x00", sources.TIFF),
        (b"MM\x00*", sources.TIFF),
    ],
)
def test_sniff_by_magic_bytes(head: bytes, media: str) -> None:
    assert sources.sniff(head) == media


def test_extension_is_ignored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "scan.pdf"
    path.write_bytes(encode(page_image(), "PNG"))
    src = sources.load(path.read_bytes(), path=str(path))
    assert src.media_type == sources.PNG


def test_text_layer_used_when_real_text() -> None:
    src = sources.load(text_pdf())
    (page,) = src.pages
    assert page.fragments is not None and page.image is None
    words = [w.text for frag in page.fragments for w in frag]
    assert "CP14" in words and all(w.source == "text" for f in page.fragments for w in f)


@pytest.mark.parametrize(
    "pdf",
    [
        pytest.param(text_pdf(), id="reportlab"),
        *[
            pytest.param(p.read_bytes(), id=p.name)
            for p in sorted(SAMPLES.glob("*.pdf"))
            if p.read_bytes()[:5] == b"%PDF-"
        ],
    ],
)
def test_text_layer_words_are_pdfplumbers(pdf: bytes) -> None:
    """The light character device gives exactly the words pdfplumber's extract_words does."""
    import pdfplumber
    from pdfplumber.utils.text import WordExtractor

    def key(words: list[dict]) -> list[tuple]:  # type: ignore[type-arg]
        keys = ("text", "x0", "top", "x1", "bottom", "upright")
        return [tuple(w[k] for k in keys) for w in words]

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            theirs = page.extract_words(keep_blank_chars=False, use_text_flow=False)
            page.close()
            ours = WordExtractor(keep_blank_chars=False, use_text_flow=False).extract_words(
                sources._layer_chars(page)
            )
            assert key(ours) == key(theirs)


def test_image_only_pdf_is_rendered_at_300_dpi() -> None:
    pdf = encode(page_image(), "PDF", resolution=300.0)
    (page,) = sources.load(pdf).pages
    assert page.fragments is None and page.image is not None
    assert abs(page.image.width - 2550) <= 2  # 8.5 in at 300 DPI
    assert abs(page.width - 612) < 1


def test_a_scan_in_a_pdf_is_read_at_its_own_resolution() -> None:
    # A 200-DPI scanner or fax page: rendering it at 300 DPI would only upsample it.
    pdf = encode(page_image(size=(1700, 2200)), "PDF", resolution=200.0)
    (page,) = sources.load(pdf).pages
    assert page.image is not None and page.image.size == (1700, 2200)
    assert abs(page.scale - 72 / 200) < 1e-6 and abs(page.width - 612) < 1


def test_a_finer_scan_or_a_page_with_more_than_a_scan_is_rendered_at_300_dpi() -> None:
    fine = encode(page_image(size=(1600, 2000)), "PDF", resolution=400.0)  # 4 x 5 inches
    (page,) = sources.load(fine).pages
    assert page.image is not None and abs(page.image.width - 1200) <= 2
    # a scan with a line drawn over it (an annotation burnt in): only rendering shows both
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.drawInlineImage(page_image(size=(1700, 2200)), 0, 0, width=612, height=792)
    c.line(72, 72, 540, 72)
    c.showPage()
    c.save()
    (page,) = sources.load(buf.getvalue()).pages
    assert page.image is not None and abs(page.image.width - 2550) <= 2


def test_text_threshold_rejects_a_few_glyphs() -> None:
    (page,) = sources.load(text_pdf(["x 1"])).pages
    assert page.fragments is None and page.image is not None


def test_every_tiff_frame() -> None:
    frames = [page_image(), page_image(["second page"]), page_image(["third page"])]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300))
    src = sources.load(data)
    assert src.page_count == 3 and [p.number for p in src.pages] == [1, 2, 3]
    pixels = [p.image.tobytes() for p in src.pages if p.image is not None]
    assert len(set(pixels)) == 3  # each frame itself, not the last one three times


def test_exif_orientation_applied() -> None:
    img = page_image().rotate(90, expand=True)  # stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 8  # ...with a tag saying: rotate 90 CW to view
    (page,) = sources.load(encode(img, "JPEG", exif=exif)).pages
    assert page.image is not None and page.image.height > page.image.width


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", errors.EmptyFileError),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntrailer\n%%EOF", errors.CorruptPdfError),
        (os.urandom(4096), errors.UnsupportedTypeError),
        (b"%PDF-1.7\n" + os.urandom(4096), errors.CorruptPdfError),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(200), errors.CorruptImageError),
    ],
    ids=["zero-byte", "corrupt-pdf", "random-bytes", "random-after-pdf-magic", "corrupt-png"],
)
def test_bad_input_is_typed(data: bytes, error: type[errors.IngestError]) -> None:
    with pytest.raises(error) as info:
        sources.load(data)
    assert info.value.exit_code == errors.ExitCode.BAD_INPUT
    assert info.value.hint  # says what to do


def test_truncated_pdf() -> None:
    data = text_pdf(pages=3)
    with pytest.raises(errors.CorruptPdfError):
        sources.load(data[: len(data) // 3])


def test_encrypted_pdf() -> None:
    with pytest.raises(errors.EncryptedPdfError):
        sources.load(text_pdf(encrypt="s3cret"))


def test_missing_and_unreadable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.FileMissingError):
        sources.read_bytes(tmp_path / "nope.pdf")
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(b"%PDF-")
    locked.chmod(0)
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    with pytest.raises(errors.UnreadableFileError):
        sources.read_bytes(locked)


def test_a_red_stamp_is_dropped_out_and_the_print_under_it_kept() -> None:
    """A colour scan's red 'RECEIVED' stamp over black print reads as near paper in the grey page
    OCR sees (colour dropout); the print under it stays black; a page without colour ink is its
    plain luminance."""
    page = page_image().convert("RGB")
    box = (150, 150, 1050, 450)
    red = Image.new("RGB", (900, 300), (196, 32, 44))
    page.paste(ImageChops.multiply(page.crop(box), red), box[:2])
    grey = sources.load(encode(page, "PNG")).pages[0].image
    assert page.convert("L").getpixel((1000, 400)) < 100  # dark in plain luminance
    assert grey.getpixel((1000, 400)) > 180  # near paper once dropped out
    text = [
        (x, y)
        for x in range(150, 1050)
        for y in range(150, 450, 3)
        if page.getpixel((x, y)) == (0, 0, 0)
    ]
    assert text and all(grey.getpixel(p) < 60 for p in text)
    blank = page_image().convert("RGB")
    loaded = sources.load(encode(blank, "PNG")).pages[0].image
    assert ImageChops.difference(loaded, blank.convert("L")).getbbox() is None
