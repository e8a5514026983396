"""Tesseract, wrapped: the only module that imports pytesseract.

One single-threaded tesseract per core beats one multi-threaded tesseract (design.md: about
0.52 s versus 3.3 s a page here), so OMP_THREAD_LIMIT=1 is set for the subprocesses we start and
parallelism is over pages and files. Probing (doctor) is separate from running.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

import pytesseract
from PIL import Image

from .document import Word
from .errors import OcrError, OcrTimeoutError, TesseractMissingError

# Orientation detection costs a second tesseract run, so it only runs when the first reading looks
# wrong: few confident dictionary-like words is what a sideways or upside-down page gives.
GOOD_WORD_CONF = 70
MIN_GOOD_WORD_RATIO = 0.45
_GOOD_WORD = re.compile(r"^[A-Za-z]{3,}[.,:;]?$")


@dataclass(slots=True)
class OcrPage:
    fragments: list[list[Word]]
    rotation: int  # degrees turned clockwise to read upright
    quality: float  # share of confident word-like words, for diagnostics
    vertical: bool = False  # most words taller than wide: the page lies on its side


@dataclass(slots=True)
class TesseractInfo:
    path: str | None
    version: str | None
    languages: list[str]


def configure(threads: int = 1) -> None:
    """Pin tesseract's OpenMP threads for every subprocess we start from here on."""
    os.environ["OMP_THREAD_LIMIT"] = str(threads)


configure()


def probe() -> TesseractInfo:
    path = shutil.which(pytesseract.pytesseract.tesseract_cmd)
    if path is None:
        return TesseractInfo(None, None, [])
    try:
        version = str(pytesseract.get_tesseract_version())
        languages = sorted(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError):
        return TesseractInfo(path, None, [])
    return TesseractInfo(path, version, languages)


def ocr_page(
    image: Image.Image, *, scale: float, page: int, lang: str = "eng", timeout: float = 60
) -> OcrPage:
    """Words with boxes (in points) and confidences; turns the page upright when it is not."""
    result = _read(image, scale, page, lang, timeout)
    if result.quality >= MIN_GOOD_WORD_RATIO and not result.vertical:
        return result
    rotate = _orientation(image, page, timeout)
    # Tesseract reads a sideways page as vertical text lines: the words come out right but the
    # layout is lost. When OSD cannot tell which way, try both quarter turns.
    tries = [rotate] if rotate else ([90, 270] if result.vertical else [])
    best = result
    for angle in tries:
        again = _read(image.rotate(-angle, expand=True), scale, page, lang, timeout)
        again.rotation = angle
        if again.quality > best.quality or (best.vertical and not again.vertical):
            best = again
    return best


def _read(image: Image.Image, scale: float, page: int, lang: str, timeout: float) -> OcrPage:
    try:
        data = pytesseract.image_to_data(
            image,
            lang=lang,
            config="--psm 3",
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    except pytesseract.TesseractNotFoundError:
        raise TesseractMissingError("Tesseract is not installed or not on PATH") from None
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrTimeoutError(f"OCR timed out after {timeout:g} s", page=page) from None
        raise OcrError(f"Tesseract failed on page {page}", page=page) from None
    except pytesseract.TesseractError as exc:
        raise OcrError(f"Tesseract failed on page {page}: {exc.message[:120]}", page=page) from None

    lines: dict[tuple[int, int, int], list[Word]] = {}
    good = total = tall = long_words = 0
    for i, text in enumerate(data["text"]):
        text = text.strip()
        conf = float(data["conf"][i])
        if not text or conf < 0:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        bbox = (x * scale, y * scale, (x + w) * scale, (y + h) * scale)
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(Word(text, bbox, conf / 100, "ocr"))
        total += 1
        good += conf >= GOOD_WORD_CONF and bool(_GOOD_WORD.match(text))
        if len(text) >= 4:
            long_words += 1
            tall += h > w
    quality = good / total if total else 0.0
    vertical = long_words >= 5 and tall / long_words > 0.5
    return OcrPage(list(lines.values()), 0, quality, vertical)


def _orientation(image: Image.Image, page: int, timeout: float) -> int:
    """Clockwise degrees to turn the page upright per tesseract's OSD, 0 when unsure."""
    try:
        osd = pytesseract.image_to_osd(
            image,
            config="--psm 0 -c min_characters_to_try=10",
            timeout=timeout,
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractNotFoundError:
        raise TesseractMissingError("Tesseract is not installed or not on PATH") from None
    except (pytesseract.TesseractError, RuntimeError):
        return 0  # too few characters to tell: leave the page as it is
    rotate = int(osd.get("rotate", 0)) % 360
    return rotate if float(osd.get("orientation_conf", 0)) >= 1.0 else 0
