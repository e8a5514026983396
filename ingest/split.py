"""One scanned file, several letters: find where each letter starts, from the pages' own content.

A sheet-fed scanner turns a stack of mail into one PDF, with no separator sheets. IRS letters
mark their own edges, so each gap between two pages with text is scored from cues any reader
would use, summed as log-odds:
- page markers: "Page 1 of 3" starts a letter, "Page 2 of 3" after "Page 1 of 3" continues it,
  a page after "Page 3 of 3" belongs to something else;
- the letter's identity on each page: notice code, notice date, taxpayer ID and name, read by
  the same extractors as the record (a change of any is a new letter; the same values on a
  continuation header are the same letter);
- a first-page look: a letterhead or an addressee block high on the page.
Pages with next to no words (separator sheets, the empty back of a one-sided page) carry no
evidence and belong to no letter unless they sit inside one. A page with the ink of a page of
print but no word read with confidence is not empty: it is a letter page OCR could not read, and
counts as one (with no cues of its own).

Each cut has a confidence (the logistic of its score); a cut or a join below `SURE` is kept as
decided but the letters on both sides of it go to review with the reason, so nobody files a
half-letter unawares.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date

from .document import Document, Page

BLANK_WORDS = 8  # fewer words with a letter or digit: a separator sheet or an empty back side
SURE = 0.9  # a cut (or a join) less likely than this sends both neighbours to review
PRIOR = -0.5  # with no evidence, two pages with text are more likely one letter
DOUBT = "unsure whether"  # how a review reason about a doubtful cut begins
# A page at least this inked (ocr.ink) with no word read with confidence is an unreadable page,
# not an empty one: empty sheets measure under 0.00005, unreadable letter pages 0.0009 and up.
INKED = 0.0005
_SURE_WORD = 0.8  # a word read at this confidence or more is text, not noise

_DIGIT = r"[0-9Il|]{1,2}"
_PAGE_OF = re.compile(rf"\bpage\s*({_DIGIT})\s*(?:of|af|0f|ot|o f)\s*({_DIGIT})\b", re.I)
_PAGE_ALONE = re.compile(rf"^\W*page\s*({_DIGIT})\W*$", re.I)
# How a first page opens, read loosely (OCR): a letterhead (an agency's name), a greeting, an
# e-mail's header, an address (a state and ZIP code, or a number and a street).
_OPENINGS = (
    re.compile(r"internal\W+rev|revenue\W+serv|treasury", re.I),
    re.compile(r"\b(?:agency|bureau|division|department)\b", re.I),
    re.compile(r"^\W*dear\b", re.I),
    re.compile(r"^\W*(?:from|subject|sent)\s*[:;.,]", re.I),
    re.compile(r"\b[A-Z]{2}\W{1,3}\d{5}(?:-\d{4})?\b"),
    re.compile(
        r"^\W*\d{1,6}\s+\w+.*\b(?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|blvd|way)\b", re.I
    ),
)


@dataclass(slots=True)
class PageCues:
    """What one page says about where it sits in a letter."""

    blank: bool
    unread: bool = False  # print on it, but nothing read: a letter page OCR could not read
    marker: tuple[int, int | None] | None = None  # (k, n) of "Page k of n" or (k, None)
    code: str | None = None
    notice_date: date | None = None
    last4: str | None = None
    name: str | None = None
    first_look: bool = False


@dataclass(slots=True)
class Gap:
    """The decision between two pages with text (file page numbers) and why."""

    before: int
    after: int
    cut: bool
    confidence: float
    reasons: list[str] = field(default_factory=list)

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE

    def describe(self) -> str:
        what = "a new letter starts" if self.cut else "the same letter goes on"
        why = "; ".join(self.reasons) or "no cue either way"
        return (
            f"{DOUBT} {what} at page {self.after} "
            f"({self.confidence:.0%}; {why}): check the page range"
        )


@dataclass(slots=True)
class Part:
    """One letter of the file: its pages (blank ones inside it included) and doubts."""

    pages: list[Page]
    doubts: list[str] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.pages[0].number

    @property
    def last(self) -> int:
        return self.pages[-1].number

    def document(self) -> Document:
        """The letter as its own document, pages numbered from 1 (the extractors treat page 1
        as the one with the reference box); `page_number` maps back to the file's numbers."""
        return Document([replace(p, number=i) for i, p in enumerate(self.pages, 1)])

    def page_number(self, local: int | None) -> int | None:
        return None if local is None else self.pages[local - 1].number


def split(doc: Document) -> tuple[list[Part], list[Gap]]:
    """The letters in a document, in page order, and the decision at every gap."""
    if sum(not _blank(p) for p in doc.pages) <= 1:  # nothing to cut: skip reading the fields
        return [Part(list(doc.pages))], []
    cues = [page_cues(p) for p in doc.pages]
    content = [i for i, c in enumerate(cues) if not c.blank]
    if len(content) <= 1:
        return [Part(list(doc.pages))], []
    gaps: list[Gap] = []
    starts = [content[0]]
    for a, b in zip(content, content[1:], strict=False):
        gap = judge(cues[a], cues[b], doc.pages[a].number, doc.pages[b].number)
        gaps.append(gap)
        if gap.cut:
            starts.append(b)
    parts: list[Part] = []
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(doc.pages)
        inside = [i for i in content if start <= i < end]
        parts.append(Part(list(doc.pages[start : inside[-1] + 1])))
    for gap in gaps:
        if gap.sure:
            continue
        for part in parts:
            if part.first <= gap.before <= part.last or part.first <= gap.after <= part.last:
                part.doubts.append(gap.describe())
    return parts, gaps


def judge(p: PageCues, q: PageCues, before: int, after: int) -> Gap:
    """Score the gap between page `before` (cues p) and the next page with text (cues q)."""
    score = PRIOR
    why: list[str] = []

    def cue(weight: float, reason: str) -> None:
        nonlocal score
        score += weight
        why.append(reason)

    if q.marker is not None:
        k, n = q.marker
        if k == 1:
            cue(6.0, f'page {after} reads "Page 1"')
        elif (
            p.marker is not None
            and p.marker[0] == k - 1
            and (n is None or p.marker[1] in (n, None))
        ):
            cue(-6.0, f'page {after} reads "Page {k}" after "Page {k - 1}"')
        else:
            cue(-3.0, f'page {after} reads "Page {k}"')
    if p.marker is not None and p.marker[1] is not None:
        k, n = p.marker
        if k >= n:
            cue(3.0, f"page {before} is the last of {n}")
        elif q.marker is None:
            cue(-2.0, f"page {before} is page {k} of {n}")
    for label, x, y, differ, same in (
        ("notice code", p.code, q.code, 4.0, -1.5),
        ("notice date", p.notice_date, q.notice_date, 3.0, -1.5),
        ("taxpayer ID", p.last4, q.last4, 4.0, -1.0),
        ("taxpayer name", p.name, q.name, 1.5, -0.5),
    ):
        if x is None or y is None:
            continue
        if x != y:
            cue(differ, f"the {label} changes")
        else:
            cue(same, f"the same {label}")
    if q.first_look:
        cue(3.0, f"page {after} opens like a first page")
    for page, c in ((before, p), (after, q)):
        if c.unread:  # no weight: pages of one damaged letter often read unevenly
            why.append(f"page {page} cannot be read")
    chance = 1.0 / (1.0 + math.exp(-score))
    cut = chance >= 0.5
    return Gap(before, after, cut, round(chance if cut else 1.0 - chance, 3), why)


def _words(page: Page) -> int:
    return sum(1 for w in page.words if any(ch.isalnum() for ch in w.text))


def _unread(page: Page) -> bool:
    """Inked like a page of print, yet not one word read with confidence."""
    return (
        page.ink is not None
        and page.ink >= INKED
        and _words(page) < BLANK_WORDS
        and not any(w.confidence >= _SURE_WORD and len(w.text) >= 3 for w in page.words)
    )


def _blank(page: Page) -> bool:
    return _words(page) < BLANK_WORDS and not _unread(page)


def page_cues(page: Page) -> PageCues:
    if _blank(page):
        return PageCues(blank=True)
    if _unread(page):
        return PageCues(blank=False, unread=True)
    from extractors import extract

    fields = extract(Document([replace(page, number=1)])).fields
    return PageCues(
        blank=False,
        marker=_marker(page),
        code=_sure(fields.notice_code),
        notice_date=_sure(fields.notice_date),
        last4=_sure(fields.taxpayer_id_last4),
        name=_normal_name(_sure(fields.taxpayer_name)),
        first_look=_first_look(page),
    )


def _sure(fv: object, floor: float = 0.6) -> object | None:
    value = getattr(fv, "value", None)
    return value if value is not None and getattr(fv, "confidence", 0.0) >= floor else None


def _normal_name(name: object | None) -> str | None:
    if not isinstance(name, str):
        return None
    letters = re.sub(r"[^A-Z]", "", name.upper())
    return letters[:12] or None  # OCR clips long names; the first letters are the surest


def _number(token: str) -> int | None:
    digits = token.translate(str.maketrans("Il|", "111"))
    return int(digits) if digits.isdigit() else None


def _marker(page: Page) -> tuple[int, int | None] | None:
    """The page's "Page k of n" (or a bare "Page k" in a header or footer line)."""
    edge = page.height * 0.15
    for line in page.lines:
        m = _PAGE_OF.search(line.text)
        if m:
            k, n = _number(m.group(1)), _number(m.group(2))
            if k and n and 1 <= k <= n <= 60:
                return k, n
        top, bottom = line.bbox[1], line.bbox[3]
        if top < edge or bottom > page.height - edge:
            m = _PAGE_ALONE.match(line.text.strip())
            k = _number(m.group(1)) if m else None
            if k:
                return k, None
    return None


def _first_look(page: Page) -> bool:
    """A letterhead, greeting or address in the top part: how a letter's first page opens.

    Only short lines count: a sentence that names the Internal Revenue Service or an address to
    write to sits in the body of any page."""
    head = [ln.text for ln in page.lines if ln.bbox[3] < page.height * 0.4 and len(ln.words) <= 8]
    return any(rx.search(t) for t in head for rx in _OPENINGS)
