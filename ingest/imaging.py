"""Pixel helpers shared by loading (sources) and OCR preparation (ocr); no tesseract here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import numpy as np


def median_level(hist: list[int]) -> int:
    """The median level of a greyscale histogram (0 for an empty one): on a page, its paper."""
    seen, total = 0, sum(hist)
    for level, count in enumerate(hist):
        seen += count
        if seen * 2 >= total:
            return level
    return 0


def median3(image: Image.Image) -> Image.Image:
    """A 3x3 median filter, edges repeated: the same pixels as Pillow's MedianFilter(3), about
    ten times faster (Pillow ranks each window; 0.37 s on a 200-DPI page against ~0.03 s).

    The median of nine is exact from sorted columns: sort each pixel's vertical triple, then it
    is the median of (largest low, median middle, smallest high) across the three columns.
    """
    import numpy as np  # here: loading a text-layer letter never needs it

    a = np.asarray(image.convert("L"))
    p = np.pad(a, 1, mode="edge")
    top, mid, bot = p[:-2], p[1:-1], p[2:]
    lo, hi = np.minimum(top, mid), np.maximum(top, mid)
    lo, mid3 = np.minimum(lo, bot), np.maximum(lo, bot)
    mid3, hi = np.minimum(mid3, hi), np.maximum(mid3, hi)
    # lo <= mid3 <= hi for every column triple; now across three neighbouring columns
    w = a.shape[1]

    def cols(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return x[:, :w], x[:, 1 : w + 1], x[:, 2:]

    l0, l1, l2 = cols(lo)
    h0, h1, h2 = cols(hi)
    m0, m1, m2 = cols(mid3)
    max_lo = np.maximum(np.maximum(l0, l1), l2)
    min_hi = np.minimum(np.minimum(h0, h1), h2)
    med_mid = _med3(m0, m1, m2)
    return Image.fromarray(_med3(max_lo, med_mid, min_hi), "L")


def _med3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
