"""What every extractor shares: candidates with evidence, label finding, and layout neighbours.

A value belongs to the label beside it or below it, not to the first match on the page. Labels
are found with spaCy's Matcher over a blank English tokenizer (patterns as data in labels.toml),
whose fuzzy operators tolerate the one-letter OCR slips ("Amoumt due") that break plain regex.
"""

from __future__ import annotations

import importlib
import re
import sys
import tomllib
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from ingest.document import Document, Line, Page
from ingest.privacy import mask_ids


@dataclass(slots=True)
class Candidate:
    value: Any
    confidence: float
    page: int
    bbox: tuple[float, float, float, float]
    evidence: str
    role: str = ""
    # Another reading the letter also supports strongly (stub and body disagree): for review.
    rival: Any = None
    support: int = 1  # how many places in the letter read this same value


@dataclass(frozen=True, slots=True)
class LabelHit:
    role: str
    weight: float
    start: int  # char offsets in the line's text
    end: int


@dataclass(slots=True)
class Slot:
    """Where a value for a label may sit: a line and where in it to start, and how far away."""

    page: Page
    line: Line
    start: int
    distance: int  # 0 same line after label, 1 beside on the row, 2+ rows below


# Distinct line texts whose label hits a worker keeps (a few MB at most).
HITS_CACHE_SIZE = 20_000


class Labeler:
    """spaCy Matcher over all label roles; built once per process."""

    def __init__(self) -> None:
        spacy = _import_spacy()
        from spacy.matcher import Matcher

        self.nlp = spacy.blank("en")
        self.matcher = Matcher(self.nlp.vocab)
        self.weights: dict[tuple[str, int], float] = {}
        self.words: dict[str, set[str]] = {}  # role -> the words of its phrases, lower case
        self._seen: dict[str, tuple[LabelHit, ...]] = {}
        data = tomllib.loads(resources.files("extractors").joinpath("labels.toml").read_text())
        for role, spec in data.items():
            patterns = []
            for i, phrase in enumerate(spec["phrases"]):
                key = f"{role}#{i}"
                # The tokenizer's exceptions depend on case ("id" splits into "i" "d", "ID"
                # does not), so the phrase is tokenized as letters print it in each case.
                text = phrase["text"]
                self.words.setdefault(role, set()).update(re.findall(r"[a-z]+", text.lower()))
                joins = _joined(text)
                variants = {
                    tuple(t.text.lower() for t in self.nlp.make_doc(v)): v
                    for phrase_text in (text, *(j for j, _word in joins))
                    for v in (phrase_text, phrase_text.upper(), phrase_text.title())
                }
                # a joined word is matched exactly: "receivedby" one or two edits off is
                # "received", a stamp's word, not the label
                exact = {word.lower() for _j, word in joins}
                patterns = [_phrase_pattern(self.nlp.make_doc(v), exact) for v in variants.values()]
                self.matcher.add(key, patterns)
                self.weights[(role, i)] = float(phrase["weight"])

    def hits(self, text: str) -> list[LabelHit]:
        # Letters repeat their boilerplate (letterheads, "Amount due", footers): a worker meets
        # the same line text again and again, and the fuzzy Matcher is most of extraction's time.
        cached = self._seen.get(text)
        if cached is None:
            if len(self._seen) >= HITS_CACHE_SIZE:
                self._seen.clear()
            cached = self._seen[text] = tuple(self._match(text))
        return list(cached)

    def _match(self, text: str) -> list[LabelHit]:
        doc = self.nlp.make_doc(text)
        out: list[LabelHit] = []
        for match_id, s, e in self.matcher(doc):
            role, idx = self.nlp.vocab.strings[match_id].split("#")
            span = doc[s:e]
            out.append(
                LabelHit(role, self.weights[(role, int(idx))], span.start_char, span.end_char)
            )
        return out


def _joined(text: str) -> list[tuple[str, str]]:
    """The phrase with the space between two of its words lost, as OCR drops a narrow one
    ("Taxyear", "Amount dueby"): one (variant, joined word) per pair of neighbouring words."""
    words = text.split(" ")
    out = []
    for i in range(len(words) - 1):
        if words[i].isalpha() and words[i + 1].isalpha():
            word = words[i] + words[i + 1]
            out.append((" ".join([*words[:i], word, *words[i + 2 :]]), word))
    return out


def _spacy_info(*args: Any, **kwargs: Any) -> Any:
    """`spacy.info`, importing spaCy's command line only when called."""
    from spacy.cli.info import info

    return info(*args, **kwargs)


def _import_spacy() -> Any:
    """spaCy without its command line, which its package imports eagerly (typer, weasel,
    httpx: a third of a second of a one-letter `irs-ingest file`) for `spacy.info` alone.

    While spaCy loads, `spacy.cli.info` is a stand-in whose `info` imports the real one when
    called; the stand-ins are gone afterwards, so `import spacy.cli` still gets spaCy's own.
    """
    if "spacy" in sys.modules:
        return sys.modules["spacy"]
    stubs = {n: types.ModuleType(n) for n in ("spacy.cli", "spacy.cli.info")}
    if any(n in sys.modules for n in stubs):
        return importlib.import_module("spacy")
    stubs["spacy.cli.info"].info = _spacy_info  # type: ignore[attr-defined]
    sys.modules.update(stubs)
    try:
        return importlib.import_module("spacy")
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]


# A speck OCR reads between two words of a label ("Tax. years", "Notice , date").
_STRAY_PUNCT = {"IS_PUNCT": True, "OP": "?"}


def _phrase_pattern(
    tokens: Any, exact: set[str] | frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, t in enumerate(tokens):
        if i and t.is_alpha and tokens[i - 1].is_alpha:
            out.append(_STRAY_PUNCT)
        out.append({"LOWER": t.lower_} if t.lower_ in exact else _token_pattern(t))
    return out


def _token_pattern(token: Any) -> dict[str, Any]:
    text = token.lower_
    if token.is_alpha and len(text) >= 10:
        return {"LOWER": {"FUZZY2": text}}
    if token.is_alpha and len(text) >= 6:
        return {"LOWER": {"FUZZY1": text}}
    return {"LOWER": text}


@lru_cache(maxsize=1)
def labeler() -> Labeler:
    return Labeler()


@dataclass
class Context:
    """One document plus what the extractors compute once and share."""

    doc: Document
    _hits: dict[int, list[LabelHit]] = field(default_factory=dict)

    @cached_property
    def labeler(self) -> Labeler:
        return labeler()

    def _owned_by_other_label(self, page: Page, line: Line) -> bool:
        """A line below a label is not its value when it has a label of its own: at its start,
        or as a label cell just left of it on the same row ("Notice date | November 8, 2021")."""
        if any(h.start == 0 for h in self.hits(line)):
            return True
        mid = (line.bbox[1] + line.bbox[3]) / 2
        return any(
            ln.bbox[2] <= line.bbox[0] + 1
            and ln.bbox[1] <= mid <= ln.bbox[3]
            and any(h.start == 0 and h.end >= len(ln.text.rstrip(" :")) for h in self.hits(ln))
            for ln in page.lines
            if ln.row == line.row
        )

    @staticmethod
    def next_line(page: Page, line: Line) -> Line | None:
        """The line below, when a sentence may run on into it (same column, next row)."""
        for ln in page.lines:
            if ln.row == line.row + 1 and abs(ln.bbox[0] - line.bbox[0]) < 40:
                return ln
        return None

    def hits(self, line: Line, role: str | None = None) -> list[LabelHit]:
        key = id(line)
        if key not in self._hits:
            self._hits[key] = self.labeler.hits(line.text)
        hs = self._hits[key]
        return [h for h in hs if h.role == role] if role else hs

    def labelled(self, role: str) -> Iterator[tuple[Page, int, Line, LabelHit]]:
        """Every occurrence of a role's labels, keeping the longest where they overlap."""
        for page, i, line in self.doc.lines():
            hs = sorted(self.hits(line, role), key=lambda h: (h.start, -(h.end - h.start)))
            last_end = -1
            for h in hs:
                if h.start >= last_end:
                    yield page, i, line, h
                    last_end = h.end

    def slots(self, page: Page, index: int, label_end: int, rows_below: int = 2) -> list[Slot]:
        """Places a value for the label ending at `label_end` of line `index` may sit."""
        line = page.lines[index]
        out = [Slot(page, line, label_end, 0)]
        x0, _, x1, _ = line.bbox
        label_x0 = line.span_bbox(0, max(label_end, 1))[0]
        label_x1 = line.span_bbox(max(label_end - 1, 0), max(label_end, 1))[2]
        mid, half = (line.bbox[1] + line.bbox[3]) / 2, (line.bbox[3] - line.bbox[1]) * 0.6
        right = [
            ln
            for ln in page.lines
            if ln.bbox[0] >= x1 - 1
            and abs((ln.bbox[1] + ln.bbox[3]) / 2 - mid) <= half
            and not speck(ln)
        ]
        out += [Slot(page, ln, 0, 1) for ln in sorted(right, key=lambda ln: ln.bbox[0])[:1]]
        # Rows below count only where they hold something under the label: a stamp's or a
        # speck's row beside the column does not push the value out of reach (up to two such).
        under = [
            ln
            for ln in page.lines
            if line.row < ln.row <= line.row + rows_below + SKIPPED_ROWS
            and ln.bbox[0] < max(label_x1, x1) + 20
            and ln.bbox[2] > label_x0 - 20
            and not speck(ln)
        ]
        rows = sorted({ln.row for ln in under})[:rows_below]
        for ln in under:
            if ln.row in rows and not self._owned_by_other_label(page, ln):
                out.append(Slot(page, ln, 0, rows.index(ln.row) + 2))
        return out


SPECK_HEIGHT = 3.5  # points: 6-point print stands taller than this
SKIPPED_ROWS = 2


def speck(line: Line) -> bool:
    """Dust or a table rule's stroke read as letters ("a", "Ze" two points tall): no field value
    is a single character or shorter than the smallest print, and a speck beside a label would
    hide the value further along."""
    return sum(ch.isalnum() for ch in line.text) < 2 or line.bbox[3] - line.bbox[1] < SPECK_HEIGHT


def in_prose(
    text: str, start: int, end: int, filler: frozenset[str] | set[str] = frozenset()
) -> bool:
    """Whether the label at [start, end) sits in a sentence: more than a few words besides it, or
    words both before and after it ("... for this tax year, then continue ..."). Such a label owns
    a value on its own line or where the sentence runs on, not a table cell beside it."""
    before = re.findall(r"[A-Za-z]+", text[:start])
    after = [w for w in re.findall(r"[A-Za-z]+", text[end:]) if w.lower() not in filler]
    return len(before) + len(after) > 4 or bool(after and before)


def field_from(c: Candidate | None) -> dict[str, Any]:
    if c is None:
        return {"value": None, "confidence": 0.0}
    return {
        "value": c.value,
        "confidence": round(min(max(c.confidence, 0.0), 1.0), 3),
        "page": c.page,
        "bbox": [round(v, 1) for v in c.bbox],
        "evidence": mask_ids(c.evidence),
    }
