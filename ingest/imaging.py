"""Pixel helpers shared by loading (sources) and OCR preparation (ocr); no tesseract here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image, ImageChops

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


def grey(image: Image.Image) -> Image.Image:
    """The page in 8-bit grey, without a copy when it already is (convert always copies: a few
    ms on a 300-DPI page, paid by every measure taken of it)."""
    return image if image.mode == "L" else image.convert("L")


# Ink this saturated (HSV S, 0-255) is coloured: a mailroom stamp, a pen, a highlighter.
COLOUR_INK = 90


def without_colour(image: Image.Image) -> Image.Image:
    """The page in grey with coloured ink dropped out, as document scanners' colour dropout does:
    a red "RECEIVED" stamp over an amount reads as paper (its lightest channel), and the black
    print under it stays black. Letters are printed in black; colour on one is someone's mark.
    On a page with no coloured ink this is plain luminance."""
    if image.mode in ("1", "L"):
        return image
    if Image.getmodebase(image.mode) == "L":  # grey with alpha, 16-bit or float grey
        return image.convert("L")
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    luminance = rgb.convert("L")
    # Looked for on a page reduced 4x (a sixteenth of the work; a stamp is large, JPEG's colour
    # fringes average out)
    coloured = rgb.reduce(4).convert("HSV").getchannel("S").point(_is_colour)
    if coloured.getbbox() is None:
        return luminance
    saturation = rgb.convert("HSV").getchannel("S")
    red, green, blue = rgb.split()
    lightest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return Image.composite(lightest, luminance, saturation.point(_is_colour))


def _is_colour(s: int) -> int:
    return 255 if s > COLOUR_INK else 0


def median3(image: Image.Image) -> Image.Image:
    """A 3x3 median filter, edges repeated: the same pixels as Pillow's MedianFilter(3), about
    ten times faster (Pillow ranks each window; 0.37 s on a 200-DPI page against ~0.03 s).

    The median of nine is exact from sorted columns: sort each pixel's vertical triple, then it
    is the median of (largest low, median middle, smallest high) across the three columns.
    """
    import numpy as np  # here: loading a text-layer letter never needs it

    a = np.asarray(grey(image))
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


def skew_angle(image: Image.Image, dark: int, limit: float = 4.0) -> float:
    """Counter-clockwise degrees that level the page's text lines: the turn at which rows of
    ink are sharpest (the largest variance of row-to-row change of ink), coarse then fine.

    A turn of a few degrees moves each narrow column of the page up or down by its distance
    from the centre times the sine: the rows of ink at any angle are the columns' ink profiles,
    each shifted, summed. Profiles of 4-pixel columns are taken once; trying an angle is then
    a few hundred additions of short arrays, not a rotation of the page (14 ms a page against
    41 ms rotating; the angle found agreed within 0.1 degree on 151 noisy pages, seed 700001)."""
    import numpy as np

    small = grey(image)
    factor = max(1, round(max(small.size) / 1100))
    if factor > 1:
        small = small.reduce(factor)
    ink = np.asarray(small) < dark
    h, w = ink.shape
    step = 4
    k = w // step
    profiles = ink[:, : k * step].reshape(h, k, step).sum(axis=2, dtype=np.int64).T
    offsets = np.arange(k) * step + step / 2 - w / 2
    pad = int(np.ceil(w / 2 * np.sin(np.radians(limit + 0.5)))) + 1

    def sharpness(angle: float) -> float:
        shifts = np.rint(-offsets * np.sin(np.radians(angle))).astype(int) + pad
        rows = np.zeros(h + 2 * pad, dtype=np.int64)
        for profile, shift in zip(profiles, shifts, strict=True):
            rows[shift : shift + h] += profile
        return float(np.var(np.diff(rows)))

    coarse = max(np.arange(-limit, limit + 0.01, 0.5), key=sharpness)
    fine = max(np.arange(coarse - 0.4, coarse + 0.41, 0.1), key=sharpness)
    return round(float(fine), 1)


def without_rules(
    image: Image.Image, ink_below: int, paper: int, across: int, thick: int
) -> Image.Image:
    """The page with horizontal table rules painted over in the paper's grey, with a pixel of
    their soft edges: tesseract's layout analysis merges a table row with a rule it touches,
    and loses the row. A rule is ink running on for `across` pixels (far longer than any stroke
    of a letter) and at most `thick` pixels high: a solid block (a banner with white print in
    it, a photo's shadow) is left alone. Vertical lines are left too: cut out of a scanner's
    dark page edge gone slanted, they left dashes that cost tesseract a whole page."""
    import numpy as np

    a = np.asarray(grey(image))
    h = a.shape[0]
    # The rows that can hold a rule, found on a copy four times narrower (a pixel is ink where
    # all four it stands for are); only they are searched, and painted, in full: most of a page
    # is text, and this runs on every page.
    w = a.shape[1] // 4 * 4
    coarse = np.logical_and.reduce([a[:, i:w:4] < ink_below for i in range(4)])
    rows = np.flatnonzero(_runs(coarse, max(1, across // 4 - 1)).any(axis=1))
    painted: np.ndarray | None = None
    for band in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1) if rows.size else []:
        top, bottom = int(band[0]), int(band[-1]) + 1
        found = _runs(a[top:bottom] < ink_below, across)
        flat = found & ~_runs(np.ascontiguousarray(found.T), thick + 1).T
        if not flat.any():
            continue
        # the rule with a pixel of its soft edges, on the band and the row above and below it
        flat = np.pad(flat, ((1, 1), (0, 0)))
        grown = flat.copy()
        grown[1:] |= flat[:-1]
        grown[:-1] |= flat[1:]
        grown[:, 1:] |= flat[:, :-1]
        grown[:, :-1] |= flat[:, 1:]
        lo, hi = max(top - 1, 0), min(bottom + 1, h)
        painted = a.copy() if painted is None else painted
        painted[lo:hi][grown[lo - (top - 1) : hi - (top - 1)]] = paper
    if painted is None:
        return image
    a = painted
    out = Image.fromarray(a, "L")
    # a black-and-white page (a fax) stays one: its grey copy is eight times the bytes to write
    return out.point(lambda v: 255 if v >= ink_below else 0, "1") if image.mode == "1" else out


def _runs(ink: np.ndarray, length: int) -> np.ndarray:
    """Pixels on a horizontal run of ink at least `length` long: an erosion to the windows
    that are all ink, then a dilation back over them, each in doubling steps (log2 of length
    array operations instead of one per pixel of the window)."""
    import numpy as np

    if length > ink.shape[1]:
        return np.zeros_like(ink)
    starts = _window(ink, length, np_and=True)  # starts[:, j]: ink[:, j:j + length] all ink
    h, w = ink.shape
    padded = np.zeros((h, w + length - 1), dtype=bool)
    padded[:, length - 1 : length - 1 + starts.shape[1]] = starts
    return _window(padded, length, np_and=False)[:, :w]


def _window(a: np.ndarray, length: int, *, np_and: bool) -> np.ndarray:
    """out[:, j] = all (or any) of a[:, j:j + length]; length - 1 columns shorter."""
    import numpy as np

    op = np.logical_and if np_and else np.logical_or
    out, span = a, 1
    while span * 2 <= length:
        out = op(out[:, :-span], out[:, span:])
        span *= 2
    if span < length:  # two overlapping windows of `span` cover one of `length`
        rest = length - span
        out = op(out[:, :-rest], out[:, rest:])
    return out
