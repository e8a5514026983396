"""What the page goes through before tesseract: noisy grey scans are cleaned, others untouched;
a page on its side or upside down is read in one tesseract run."""

from __future__ import annotations

import math
import random
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ingest import ocr
from ingest.imaging import median3, skew_angle, without_rules

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _letter_page() -> Image.Image:
    page = Image.new("L", (850, 1100), 255)
    draw = ImageDraw.Draw(page)
    for i in range(20):
        draw.text((80, 100 + 30 * i), "We changed your 2023 Form 1040 to correct an error", fill=0)
    return page


def test_a_clean_scan_is_left_as_it_is() -> None:
    page = _letter_page()
    assert ocr.noise(page) == 0
    cleaned, skew = ocr._clean(page, 100)
    assert cleaned is page and skew == 0


def test_a_fax_has_no_grey_noise_to_remove() -> None:
    fax = _letter_page().convert("1")
    assert ocr.noise(fax) == 0
    cleaned, skew = ocr._clean(fax, 100)
    assert cleaned is fax and skew == 0


def test_a_noisy_grey_scan_goes_through_a_median_filter() -> None:
    page = _letter_page()
    noisy = Image.blend(page, Image.effect_noise(page.size, 40), 0.25)
    assert ocr.noise(noisy) >= ocr.NOISY
    cleaned, _ = ocr._clean(noisy, 100)
    assert cleaned is not noisy
    assert ocr.noise(cleaned) < ocr.noise(noisy)


def test_the_median_filter_gives_pillows_pixels() -> None:
    rng = random.Random(7)
    for size in [(1, 1), (2, 3), (31, 17), (640, 480)]:
        pixels = bytes(rng.randrange(256) for _ in range(size[0] * size[1]))
        page = Image.frombytes("L", size, pixels)
        assert median3(page).tobytes() == page.filter(ImageFilter.MedianFilter(3)).tobytes()


def _printed_page() -> Image.Image:
    """Mixed-case print in a real font, at 150 DPI: what a letter's body looks like."""
    page = Image.new("L", (1275, 1650), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 18)
    for i, line in enumerate(BODY * 3):
        draw.text((110, 150 + 30 * i), line, font=font, fill=0)
    return page


BODY = [
    "We changed your 2023 Form 1040 to correct a calculation error.",
    "Pay the amount you owe by July 15, 2024 to avoid more penalty and interest.",
    "If you agree with the changes, you don't need to reply to this notice.",
    "Call us at the number shown above if you have questions about your account.",
]


def test_upright_print_has_more_ink_above_the_x_height_than_below() -> None:
    page = _printed_page()
    assert ocr.ascender_balance(page) > 0.1
    assert ocr.ascender_balance(page.rotate(180)) < -0.1
    assert ocr.ascender_balance(Image.new("L", (1275, 1650), 255)) == 0.0


def _words(page: ocr.OcrPage) -> list[tuple[str, tuple[float, float, float, float]]]:
    return sorted((w.text, w.bbox) for line in page.fragments for w in line)


def _count_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    runs: list[list[str]] = []
    real = ocr._Runner.read

    def counted(self: ocr._Runner, picture: Path, args: list[str], ext: str) -> str:
        runs.append(args)
        return real(self, picture, args, ext)

    monkeypatch.setattr(ocr._Runner, "read", counted)
    return runs


def _same_reading(turned: ocr.OcrPage, upright: ocr.OcrPage) -> None:
    """The same words, boxed in the upright page's points as if it had been scanned upright."""
    words, expected = _words(turned), _words(upright)
    assert [t for t, _ in words] == [t for t, _ in expected]
    for (_, ours), (_, theirs) in zip(words, expected, strict=True):
        assert all(abs(a - b) < 3 for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize("turn", [90, 180, 270])
@pytest.mark.parametrize("clear", [True, False], ids=["balance-clear", "balance-unsure"])
def test_a_turned_page_is_read_upright_in_one_tesseract_run(
    turn: int, clear: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clear print is turned by its ascender balance and read as usual (--psm 3); when the
    balance cannot tell, tesseract's orientation step turns it in the same run (--psm 1)."""
    page = _printed_page()
    upright = ocr.ocr_page(page, scale=72 / 150, page=1)
    turned_page = page.rotate(turn, expand=True)
    assert ocr.upright_turn(turned_page) == turn
    if not clear:
        monkeypatch.setattr(ocr, "upright_turn", lambda image: None)
    runs = _count_runs(monkeypatch)
    turned = ocr.ocr_page(turned_page, scale=72 / 150, page=1)
    assert len(runs) == 1 and runs[0][runs[0].index("--psm") + 1] == ("3" if clear else "1")
    assert turned.rotation == turn
    _same_reading(turned, upright)


def test_an_upright_page_scores_no_turn() -> None:
    assert ocr.upright_turn(_printed_page()) == 0


@pytest.mark.parametrize("wrong", [180, 90])
def test_a_wrong_turn_is_caught_and_the_page_still_read_upright(
    wrong: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the balance ever point the wrong way, the garbled reading sends the page to
    tesseract's orientation detection, which turns it back."""
    page = _printed_page()
    upright = ocr.ocr_page(page, scale=72 / 150, page=1)
    monkeypatch.setattr(ocr, "upright_turn", lambda image: wrong)
    runs = _count_runs(monkeypatch)
    again = ocr.ocr_page(page, scale=72 / 150, page=1)
    # the wrong read, orientation detection, the right read (and, for a quarter turn that OSD
    # is unsure of on this short page, the other quarter turn too)
    assert 3 <= len(runs) <= 4 and runs[1][runs[1].index("--psm") + 1] == "0"
    assert again.rotation == 0
    _same_reading(again, upright)


SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
ROWS = [
    ("1040", "12/31/2012", "05/18/2013", "1,483.48"),
    ("1040", "12/31/2013", "10/08/2014", "6,540.09"),
    ("1040", "12/31/2014", "09/12/2015", "19,709.32"),
]


def _ruled_table(dpi: int = 200) -> Image.Image:
    """A billing table with a box border and rules between header, rows and total, as IRS lien
    and balance-due letters print them."""
    u = dpi / 200
    page = Image.new("L", (round(1700 * u), round(1100 * u)), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(SERIF, round(26 * u))
    cols = [150, 500, 900, 1400]
    y = 200
    draw.rectangle([120 * u, y * u, 1600 * u, (y + 260) * u], outline=40, width=round(3 * u))
    for x, head in zip(cols, ["Type of Tax", "Tax Period", "Assessed", "Amount Owed"], strict=True):
        draw.text((x * u, (y + 8) * u), head, font=font, fill=40)
    draw.line([120 * u, (y + 45) * u, 1600 * u, (y + 45) * u], fill=40, width=round(3 * u))
    for r, row in enumerate(ROWS):
        for x, cell in zip(cols, row, strict=True):
            draw.text((x * u, (y + 52 + 40 * r) * u), cell, font=font, fill=40)
    draw.line([120 * u, (y + 175) * u, 1600 * u, (y + 175) * u], fill=40, width=round(2 * u))
    draw.text((900 * u, (y + 190) * u), "Total", font=font, fill=40)
    draw.text((1400 * u, (y + 190) * u), "$27,732.89", font=font, fill=40)
    return page


def _damaged(page: Image.Image, angle: float) -> Image.Image:
    """Crooked, blurred, faded and grainy: the generator's heavy degradation, by hand."""
    rng = random.Random(3)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=250, expand=False)
    page = page.filter(ImageFilter.GaussianBlur(1.2)).point(lambda v: 110 + v * 0.55)
    grain = Image.frombytes(
        "L", page.size, bytes(rng.randrange(256) for _ in range(page.width * page.height))
    )
    return Image.blend(page, grain, 0.12)


def test_the_skew_of_a_crooked_page_is_measured() -> None:
    page = _printed_page()
    for angle in (-2.5, -1.2, 0.0, 1.7, 3.0):
        turned = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
        assert abs(skew_angle(turned, 128) + angle) <= 0.2


def test_table_rules_are_painted_out_and_print_is_kept() -> None:
    table = _ruled_table()
    banner = ImageDraw.Draw(table)  # white print on a black band: a block, not a rule
    banner.rectangle([120, 600, 1600, 660], fill=10)
    banner.text((400, 610), "FINAL NOTICE", font=ImageFont.truetype(SERIF, 40), fill=250)
    clean = without_rules(table, 145, 250, across=67, thick=8)
    import numpy as np

    before, after = np.asarray(table) < 145, np.asarray(clean) < 145
    assert not after[200, 130:1590].any()  # the box's top edge
    assert not after[245, 130:1590].any()  # the rule under the header
    rows = (slice(255, 375), slice(140, 1580))  # the three rows, inside the box
    kept = after[rows].sum() / before[rows].sum()
    assert kept > 0.97
    band = (slice(600, 661), slice(120, 1601))
    assert (np.asarray(clean)[band] != np.asarray(table)[band]).mean() < 0.005  # banner kept


def test_a_crooked_noisy_ruled_table_is_read_row_by_row() -> None:
    """Every row's period and amount come out of a damaged, crooked scan of a ruled table: the
    rows a mailroom reads the tax years and the balance from."""
    page = _damaged(_ruled_table(), 1.6)
    assert ocr.noise(page) >= ocr.NOISY
    text = "\n".join(
        " ".join(w.text for w in line)
        for line in ocr.ocr_page(page, scale=72 / 200, page=1).fragments
    )
    for _, period, _, amount in ROWS:
        assert period in text and amount in text
    assert "27,732.89" in text


@pytest.mark.parametrize("compression", ["jpeg", "tiff_lzw", "group4"])
def test_a_page_goes_to_tesseract_with_its_own_pixels(compression: str, tmp_path: Path) -> None:
    """A page from a JPEG-compressed TIFF (a scanner's default) is written uncompressed for
    tesseract: the same pixels, not re-encoded with its source's lossy compression."""
    import io

    page = _printed_page()
    if compression == "group4":
        page = page.convert("1")
    buf = io.BytesIO()
    page.save(buf, format="TIFF", compression=compression)
    loaded = Image.open(io.BytesIO(buf.getvalue()))
    loaded.load()
    assert loaded.info["compression"] == compression
    written = Image.open(ocr._write_image(loaded, tmp_path / "page"))
    assert written.info["compression"] == "raw"
    assert written.tobytes() == loaded.tobytes()


def _pages_of_a_letter() -> list[Image.Image]:
    """Three different pages, one of them blank (the back of a sheet)."""
    first, last = _printed_page(), _printed_page()
    ImageDraw.Draw(last).text(
        (110, 60), "Page 3 of 3  Notice CP14", font=ImageFont.truetype(FONT, 22), fill=0
    )
    return [first, Image.new("L", first.size, 255), last.rotate(180)]


def _read_together(
    pages: list[Image.Image], folder: Path, cmd: str | None = None
) -> list[ocr.OcrPage | ocr.OcrError]:
    ready = [ocr.prepare(p, scale=72 / 150, page=n, folder=folder) for n, p in enumerate(pages, 1)]
    return ocr.read_prepared(ready, timeout=60, cmd=cmd, folder=folder)


def test_the_pages_of_a_file_are_read_in_one_tesseract_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's start (loading the model) is paid once, and each page reads as it does alone."""
    pages = _pages_of_a_letter()
    alone = [ocr.ocr_page(p, scale=72 / 150, page=n) for n, p in enumerate(pages, 1)]
    runs = _count_runs(monkeypatch)
    together = _read_together(pages, tmp_path)
    assert len(runs) == 1  # the blank page needs no run, the upside-down one is turned first
    assert [_words(p) for p in together] == [_words(p) for p in alone]
    assert [p.rotation for p in together] == [0, 0, 180]
    assert not together[1].fragments and together[2].fragments
    assert not list(tmp_path.iterdir())  # the page images are gone


def test_a_page_that_stops_the_shared_run_fails_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tesseract that cannot read one page (here a wrapper that fails on it) fails the run for
    all: each page is then read alone, and only that page carries the error."""
    pages = _pages_of_a_letter()
    wrapper = tmp_path / "tesseract"
    real = shutil.which("tesseract")
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$1" in *.txt) grep -q "/p3-" "$1" && exit 3;; */p3-*) exit 3;; esac\n'
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    folder = tmp_path / "pages"
    folder.mkdir()
    runs = _count_runs(monkeypatch)
    first, blank, third = _read_together(pages, folder, cmd=str(wrapper))
    assert len(runs) == 3  # the shared run, then page 1 and page 3 alone
    assert isinstance(first, ocr.OcrPage) and first.fragments
    assert isinstance(blank, ocr.OcrPage) and not blank.fragments
    assert isinstance(third, ocr.OcrError) and third.page == 3


def test_boxes_on_a_crooked_noisy_scan_are_where_the_print_is(tmp_path: Path) -> None:
    """The page is read levelled, but the record's boxes are the scan's own: a case system
    that highlights the notice code on the scan finds it there, not a tilt away."""
    from ingest import read_letter

    dpi, crook = 150, 2.0
    page = Image.new("L", (1275, 1650), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 24)
    draw.text((850, 110), "Notice CP14", font=font, fill=30)
    top, bottom = draw.textbbox((850, 110), "Notice CP14", font=font)[1::2]
    cp14 = (
        (
            850
            + draw.textlength("Notice ", font=font)
            + 850
            + draw.textlength("Notice CP14", font=font)
        )
        / 2,
        (top + bottom) / 2,
    )
    draw.text((850, 150), "Notice date May 6, 2024", font=font, fill=30)
    for i, line in enumerate(BODY * 4):
        draw.text((110, 400 + 36 * i), line, font=font, fill=30)
    scan = _damaged(page, crook)
    assert ocr.noise(scan) >= ocr.NOISY
    path = tmp_path / "crooked.png"
    scan.save(path, dpi=(dpi, dpi))

    code = read_letter(path).fields.notice_code
    assert code.value == "CP14" and code.bbox is not None
    # where "CP14" lies on the scan: the straight page turned by the crook about its centre
    a = math.radians(crook)
    dx, dy = cp14[0] - page.width / 2, cp14[1] - page.height / 2
    on_scan = (
        page.width / 2 + dx * math.cos(a) + dy * math.sin(a),
        page.height / 2 - dx * math.sin(a) + dy * math.cos(a),
    )
    pt = 72 / dpi
    got = ((code.bbox[0] + code.bbox[2]) / 2 / pt, (code.bbox[1] + code.bbox[3]) / 2 / pt)
    assert math.dist(got, on_scan) < 6  # pixels
    assert math.dist(on_scan, cp14) > 20  # where it would be on the levelled page


def _boxed_demand() -> Image.Image:
    """A clean 300-DPI flyer: an address block with the amount and deadline boxed beside it."""
    serif = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
    page = Image.new("L", (2550, 3300), 255)
    draw = ImageDraw.Draw(page)
    font, big = ImageFont.truetype(serif, 42), ImageFont.truetype(serif, 50)
    draw.text((780, 420), "FINAL DEMAND FOR PAYMENT", font=ImageFont.truetype(serif, 62), fill=0)
    draw.line([(240, 495), (2370, 495)], fill=0, width=6)
    for i, text in enumerate(["Rivera & Sons LLP", "15721 S Laurel Way", "Springfield, IL 62592"]):
        draw.text((285, 570 + i * 55), text, font=font, fill=0)
    draw.rectangle([1350, 535, 2370, 655], outline=0, width=7)
    draw.text((1390, 570), "AMOUNT DUE: $8,681.11", font=big, fill=0)
    draw.rectangle([1350, 685, 2370, 805], outline=0, width=7)
    draw.text((1390, 720), "DUE BY: 4/2/2025", font=big, fill=0)
    draw.text(
        (245, 950), "Federal Tax Authorities has attempted to collect the debt.", font=font, fill=0
    )
    return page


def test_a_boxed_value_beside_the_address_is_read_on_a_clean_page() -> None:
    """Tesseract's layout step drops a ruled box's text (and the address line beside it) as a
    whole on a clean page too: 13-16 of 41 scam flyers per corpus lost their boxed amount."""
    page = _boxed_demand()
    assert ocr.noise(page) < ocr.NOISY
    read = ocr.ocr_page(page, scale=72 / 300, page=1)
    text = "\n".join(" ".join(w.text for w in line) for line in read.fragments)
    assert "AMOUNT DUE: $8,681.11" in text
    assert "DUE BY: 4/2/2025" in text
    assert "Rivera & Sons LLP" in text


def test_a_black_and_white_page_stays_black_and_white_without_its_rules() -> None:
    """A fax's page goes to tesseract bilevel, its rules gone: a grey copy is 8x the bytes."""
    page = _boxed_demand().convert("1", dither=Image.Dither.NONE)
    clean = without_rules(page, 128, 255, across=100, thick=12)
    assert clean.mode == "1"
    assert clean.getpixel((1800, 495)) == 255  # the rule under the title
    assert clean.getpixel((1800, 538)) == 255  # the box's top edge
