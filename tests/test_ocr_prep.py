"""What the page goes through before tesseract: noisy grey scans are cleaned, others untouched;
a page on its side or upside down is read in one tesseract run."""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ingest import ocr
from ingest.imaging import median3

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
    assert ocr._clean(page) is page


def test_a_fax_has_no_grey_noise_to_remove() -> None:
    fax = _letter_page().convert("1")
    assert ocr.noise(fax) == 0
    assert ocr._clean(fax) is fax


def test_a_noisy_grey_scan_goes_through_a_median_filter() -> None:
    page = _letter_page()
    noisy = Image.blend(page, Image.effect_noise(page.size, 40), 0.25)
    assert ocr.noise(noisy) >= ocr.NOISY
    cleaned = ocr._clean(noisy)
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
    real = ocr._Runner.__call__

    def counted(self: ocr._Runner, image: Image.Image, args: list[str], ext: str) -> str:
        runs.append(args)
        return real(self, image, args, ext)

    monkeypatch.setattr(ocr._Runner, "__call__", counted)
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
