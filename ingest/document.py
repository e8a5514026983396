"""The one Document representation every stage after the sources reads.

Coordinates are PDF points (1/72 inch) from the page's top-left corner whatever the origin
(text layer or OCR at any DPI), so layout rules do not depend on scan resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

TextSource = Literal["text", "ocr"]
BBox = tuple[float, float, float, float]


@dataclass(slots=True)
class Word:
    text: str
    bbox: BBox
    confidence: float  # 0..1; text-layer words are 1.0
    source: TextSource


@dataclass(slots=True)
class Line:
    words: list[Word]
    row: int = 0  # lines on the same printed row share this number
    text: str = ""
    starts: list[int] = field(default_factory=list)  # char offset of each word in `text`
    # The box of all words, kept once asked for: layout rules ask for line boxes hundreds of
    # thousands of times per batch. rebuild() forgets it, as it must after words change.
    _bbox: BBox | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.text:
            self.rebuild()

    def rebuild(self) -> None:
        self._bbox = None
        parts: list[str] = []
        self.starts = []
        pos = 0
        for w in self.words:
            self.starts.append(pos)
            parts.append(w.text)
            pos += len(w.text) + 1
        self.text = " ".join(parts)

    @property
    def bbox(self) -> BBox:
        try:
            box = self._bbox
        except AttributeError:  # unpickled from before the cache existed
            box = None
        if box is None:
            box = self._bbox = union([w.bbox for w in self.words])
        return box

    @property
    def confidence(self) -> float:
        return min((w.confidence for w in self.words), default=0.0)

    def words_in(self, start: int, end: int) -> list[Word]:
        """Words overlapping the character span [start, end) of `text`."""
        return [
            w
            for w, s in zip(self.words, self.starts, strict=True)
            if s < end and s + len(w.text) > start
        ]

    def span_bbox(self, start: int, end: int) -> BBox:
        ws = self.words_in(start, end)
        return union([w.bbox for w in ws]) if ws else self.bbox

    def span_confidence(self, start: int, end: int) -> float:
        ws = self.words_in(start, end)
        return min((w.confidence for w in ws), default=0.0)


@dataclass(slots=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line]
    source: TextSource
    rotation: int = 0  # degrees the scan was turned to read upright
    warnings: list[str] = field(default_factory=list)
    ink: float | None = None  # share of the scan covered by ink (ocr.ink); None: not measured
    # Degrees a crooked scan was turned counter-clockwise about its centre to read it level:
    # the lines' boxes are the levelled page's (the extractors' rows and columns want them
    # so); the record's boxes are turned back (unlevel).
    skew: float = 0.0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def words(self) -> Iterator[Word]:
        for line in self.lines:
            yield from line.words

    @property
    def mean_confidence(self) -> float:
        confs = [w.confidence for w in self.words]
        return sum(confs) / len(confs) if confs else 0.0


@dataclass(slots=True)
class Document:
    pages: list[Page]

    @property
    def text(self) -> str:
        return "\n\f".join(p.text for p in self.pages)

    @property
    def text_source(self) -> Literal["text", "ocr", "mixed"]:
        kinds = {p.source for p in self.pages}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    def lines(self) -> Iterator[tuple[Page, int, Line]]:
        for page in self.pages:
            for i, line in enumerate(page.lines):
                yield page, i, line


def union(boxes: list[BBox]) -> BBox:
    # One transpose instead of four generator passes: the layout rules ask for line boxes
    # hundreds of thousands of times per batch of letters.
    x0, y0, x1, y1 = zip(*boxes, strict=True)
    return (min(x0), min(y0), max(x1), max(y1))


def build_lines(fragments: list[list[Word]], gap_factor: float = 2.5) -> list[Line]:
    """Turn word runs into segment lines with row numbers, in reading order.

    A fragment is a run of words on one baseline (tesseract's line, or text-layer words sharing a
    `top`). It is split where the horizontal gap exceeds `gap_factor` times the text height, so a
    body column and a reference box beside it become separate lines; fragments whose vertical
    centres fall inside each other's span share a row, so a label and the value beside it can be
    paired by the extractors. Working on fragments, not single words, keeps a skewed scan's long
    line together.
    """
    segments: list[list[Word]] = []
    for frag in fragments:
        ws = sorted((w for w in frag if w.text.strip()), key=lambda w: w.bbox[0])
        if not ws:
            continue
        height = sorted(w.bbox[3] - w.bbox[1] for w in ws)[len(ws) // 2] or 1.0
        current = [ws[0]]
        for w in ws[1:]:
            if w.bbox[0] - current[-1].bbox[2] > gap_factor * height:
                segments.append(current)
                current = [w]
            else:
                current.append(w)
        segments.append(current)

    lines = [Line(seg) for seg in segments]
    lines.sort(key=lambda ln: (ln.bbox[1] + ln.bbox[3]) / 2)
    heights = sorted(ln.bbox[3] - ln.bbox[1] for ln in lines)
    usual = heights[len(heights) // 2] if heights else 0.0
    row = -1
    row_top = row_bot = 0.0
    for ln in lines:
        top, bot = ln.bbox[1], ln.bbox[3]
        mid = (top + bot) / 2
        if row < 0 or not (row_top <= mid <= row_bot):
            row += 1
            row_top, row_bot = top, bot
            if bot - top > 2 * usual:
                # A line swollen by a stamp or a smudge read into it spans several rows of
                # print: its row is only as tall as a line of text, or it swallows the table
                # rows beside it (a header and its first row became one row).
                row_top, row_bot = mid - usual / 2, mid + usual / 2
        ln.row = row
    lines.sort(key=lambda ln: (ln.row, ln.bbox[0]))
    return lines


def unlevel(box: BBox, page: Page) -> BBox:
    """A box on the levelled page as the box around it on the scan itself: the page was turned
    `skew` degrees counter-clockwise about its centre, so the box is turned back about it."""
    if not page.skew:
        return box
    a = math.radians(page.skew)
    cx, cy = page.width / 2, page.height / 2
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])):
        # Levelling took (dx, dy) from the centre to (dx cos a + dy sin a, dy cos a - dx sin a)
        # (counter-clockwise, y running down); this is the way back.
        dx, dy = x - cx, y - cy
        xs.append(cx + dx * math.cos(a) - dy * math.sin(a))
        ys.append(cy + dx * math.sin(a) + dy * math.cos(a))
    return (min(xs), min(ys), max(xs), max(ys))
