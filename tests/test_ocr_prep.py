"""What the page goes through before tesseract: noisy grey scans are cleaned, others untouched."""

from __future__ import annotations

from PIL import Image, ImageDraw

from ingest import ocr


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
