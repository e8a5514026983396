"""The notice or letter code, checked against the catalog's closed list.

Letters print their own code in the reference box and on the stub, and mention other codes in
the body ("we sent you a CP14"); a labelled code high on the page, repeated, wins.
"""

from __future__ import annotations

import re
from collections import defaultdict

from ingest.catalog import load_catalog
from ingest.document import Line, Page

from .base import Candidate, Context
from .parse import one_off

_CODE = re.compile(
    r"(?P<pre>\b(?:notice(?:\s+(?:number|name|no\.?))?|letter(?:\s+(?:number|no\.?))?|ltr|"
    r"number\s+of\s+this\s+letter)\s*[:#]?\s*)?"
    r"(?P<code>\b(?:CP|LT)\s?-?[0-9OIlSB]{2,4}[A-Z]{0,2}\b"
    r"|(?<=\s)L?\d{3,4}[A-Z]?(?:\s?\((?:DO|SC|CG)\))?\b"
    r"|\bForm\s+668-?[AW](?:\((?:ICS|ACS|c)\))?)",
    re.IGNORECASE,
)
_OCR_DIGITS = str.maketrans({"O": "0", "I": "1", "l": "1", "S": "5", "B": "8"})
_LABEL_ABOVE = re.compile(r"(notice|letter|ltr|notice number|notice name)\s*:?\s*$", re.I)


def _misread(code: str) -> bool:
    """A code whose number holds letters OCR takes for digits ("CPO0O5"): no code is printed so."""
    m = re.match(r"(?i)(?:CP|LT)\s?-?(\w+)", code)
    return m is not None and bool(re.search(r"\d", m[1])) and bool(re.search(r"[OIlSB]", m[1][:-1]))


def _readings(raw: str) -> list[str]:
    """The code as printed, then with OCR's letter-for-digit slips repaired in its number part.

    "CP134B" must stay CP134B (a real code ending in B), while "CP5O4" can only be CP504; the
    catalog's closed list decides which reading is a code.
    """
    m = re.match(r"(?i)(CP|LT)\s?-?(\w+)", raw)
    if not m:
        return [raw]
    prefix, body = m[1].upper(), m[2].upper()
    readings = [prefix + body]
    digits = re.match(r"[0-9OIlSB]+", m[2])
    if digits:
        fixed = digits[0].translate(_OCR_DIGITS)
        for cut in range(len(fixed), 0, -1):  # keep a trailing letter as a suffix when it may be
            readings.append(prefix + fixed[:cut] + m[2][cut:].upper())
    return list(dict.fromkeys(readings))


def _score(page: Page, line: Line, start: int, end: int, labelled: bool) -> float:
    """Reference boxes sit high on page 1, often on the right; a labelled code is the letter's."""
    score = 0.45 + (0.25 if labelled else 0.0)
    if line.bbox[1] < page.height * 0.3:
        score += 0.15
    if line.bbox[0] > page.width * 0.45:
        score += 0.1
    if page.number > 1:
        score -= 0.1
    return score * (0.6 + 0.4 * line.span_confidence(start, end))


# How OCR prints the two letters of a code's prefix on a fax or a noisy scan: "(P14", "cPr49",
# "\\T11", "L¥ 11", "tT11". Only read in a code label's slot, and only kept when the catalog
# knows the result.
_PREFIX_SHAPES = (
    (re.compile(r"^[CcG(\[<{][PpF]"), "CP"),
    (re.compile(r"^[Ll\\|I1it(\[][TtY¥7]"), "LT"),
    (re.compile(r"^[Pp](?=[0-9OoIl|!])"), "CP"),  # the C lost to a speck or the margin: "P2000"
)
# The glyphs OCR prints for each digit of a code's number on a fax or a faded scan ("SOTIC" is
# 5071C, "$747C" is 5747C); read only where a label or the catalog vouches for a code.
_DIGIT_SHAPES = {"0": "OoDQ", "1": "Il|i!Lt", "2": "Zz", "5": "Ss$§", "7": "T", "8": "B"}
_SLOT_DIGITS = str.maketrans({g: d for d, glyphs in _DIGIT_SHAPES.items() for g in glyphs})
# A suffix letter read as a digit or a symbol: "CPS048" is CP504B, "CP71¢" is CP71C.
_SUFFIX_SHAPES = str.maketrans({"8": "B", "¢": "C", "€": "C", "(": "C", "0": "O"})


def _slot_readings(token: str) -> list[tuple[int, str]]:
    """(edits, reading) for one OCR token in a code label's slot, fewest repairs first.

    A repair is a letter-for-digit swap in the number, a misread prefix or suffix letter, or
    one stray character dropped ("CPO05", "cPr49"); the catalog's closed list decides which
    readings are codes, so a repair never invents one.
    """
    t = re.sub(r"\s+", "", token)
    out: dict[str, float] = {}

    def read(text: str, base: float) -> None:
        for shape, prefix in _PREFIX_SHAPES:
            m = shape.match(text)
            if not m:
                continue
            edits = base + (m[0].upper() != prefix)
            body = text[m.end() :]
            for cut in range(len(body), 0, -1):
                number = body[:cut].translate(_SLOT_DIGITS)
                # A number read all as letters is a bolder repair, and needs two of them:
                # "CPii", "CPiL" and "CPit" on the pages of one CP11; a lone "CPi" is no code.
                printed = any(ch.isdigit() for ch in body[:cut])
                if not number.isdigit() or not printed and cut < 2:
                    continue
                suffix = body[cut:].translate(_SUFFIX_SHAPES).upper()
                if len(suffix) > 2 or not suffix.isalpha() and suffix:
                    continue
                cost = edits + (number != body[:cut]) + (suffix != body[cut:].upper())
                cost += not printed
                if cost <= 2:
                    reading = prefix + number + suffix
                    out[reading] = min(out.get(reading, 99.0), cost)

    read(t, 0)
    if len(t) > 1 and not t[:1].isalnum():
        read(t[1:], 0.5)  # a speck or quote before the code
    for i in range(1, len(t)):
        read(t[:i] + t[i + 1 :], 1.5)  # dropping a character is a bolder repair than a swap
    if t[:1].isalpha() and len(t) > 3:
        read(t[1:], 1.5)  # a stray letter before the code ("aCP14")
    return sorted(((e, r) for r, e in out.items()), key=lambda er: er[0])


def _letter_number(token: str) -> tuple[str, float] | None:
    """The catalog letter a number beside a "Letter" label reads as, glyph for lookalike glyph.
    Only the catalog's few lettered codes can come out, so even four swaps are a safe repair."""
    m = re.fullmatch(r"(\S{4})([A-Za-z¢(]?)\W*", token)
    if m is None:
        return None
    number = m[1].translate(_SLOT_DIGITS)
    suffix = m[2].translate(_SUFFIX_SHAPES).upper()
    if not number.isdigit() or number == m[1] and suffix == m[2]:
        return None  # printed plainly: the code pattern reads it
    code = load_catalog().canonical(f"Letter {number}{suffix}")
    edits = sum(a != b for a, b in zip(m[1], number, strict=True)) + (suffix != m[2].upper())
    return (code, float(edits)) if code is not None else None


def _slot_code(token: str) -> tuple[str, float] | None:
    """The one catalog code the token reads as with fewest repairs; None if none or ambiguous."""
    catalog = load_catalog()
    best: dict[str, float] = {}
    for edits, reading in _slot_readings(token):
        code = catalog.canonical(reading)
        if code is not None and code not in best:
            best[code] = edits
    if not best:
        return None
    fewest = min(best.values())
    codes = [c for c, e in best.items() if e == fewest]
    return (codes[0], fewest) if len(codes) == 1 else None


# What OCR leaves of a code on a faded scan: its prefix alone ("LT", "LT."), its number after an
# unreadable prefix ("iF 39"), or every glyph taken for a lookalike ("tril", "LT1i1" for LT11).
# Too little to name a code by itself; with the letter's title naming that code, enough.
PARTIAL_CODE_WEIGHT = 0.6
_PREFIX_GLYPHS = {"L": "l1Ii|!t\\[(", "T": "tYy¥7fFr", "C": "c(G[<{e", "P": "pFr"}


def _glyphs(char: str) -> str:
    return _PREFIX_GLYPHS.get(char) or _DIGIT_SHAPES.get(char, "")


def _looks_like(text: str, code: str) -> bool:
    """Every glyph one OCR takes for the code's, at most one stray glyph besides."""
    if len(text) not in (len(code), len(code) + 1):
        return False
    tries = (
        [text] if len(text) == len(code) else [text[:i] + text[i + 1 :] for i in range(len(text))]
    )
    return any(
        all(ch == want or ch in _glyphs(want) for ch, want in zip(t, code, strict=True))
        for t in tries
    )


def _partial_of(text: str, code: str) -> bool:
    """Whether the characters read where a code is printed are what is left of `code`."""
    m = re.fullmatch(r"(CP|LT)(\d+[A-Z]?)", code)
    t = re.sub(r"[^0-9A-Za-z¥|\\(\[<{!]", "", text)
    if m is None or len(t) < 2:
        return False
    prefix, number = m.groups()
    if len(t) == 2 and _looks_like(t, prefix):
        return True  # the prefix alone: the number faded out
    lead = re.fullmatch(r"(\D{0,2})(\d{2,4}[A-Z]?)", t)
    return lead is not None and lead[2].upper() == number or _looks_like(t, code)


def _alone_at_top(ctx: Context) -> list[Line]:
    """Short lines standing alone high on the first page, where ACS letters print their code."""
    first = ctx.doc.pages[0]
    return [ln for ln in first.lines if ln.bbox[1] < first.height * 0.15 and len(ln.text) <= 8]


def _partial_code(ctx: Context) -> Candidate | None:
    """The code the letter's title names, where a code label's slot, or a word standing alone
    at the top of the first page (where ACS letters print it), holds what is left of it."""
    entry = load_catalog().by_title(ctx.doc.text)
    if entry is None:
        return None
    places = [
        (page, slot.line, slot.start)
        for page, i, _line, hit in ctx.labelled("code_label")
        for slot in ctx.slots(page, i, hit.end, rows_below=0)
    ]
    places += [(ctx.doc.pages[0], ln, 0) for ln in _alone_at_top(ctx)]
    for page, line, at in places:
        m = re.match(r"[\s:#.,=-]*(\S+(?:\s\S+)?)", line.text[at:])
        if m is None or not (
            _partial_of(m[1].split()[0], entry.code) or _partial_of(m[1], entry.code)
        ):
            continue
        start = at + m.start(1)
        return Candidate(
            entry.code,
            PARTIAL_CODE_WEIGHT * (0.6 + 0.4 * line.span_confidence(start, m.end(1))),
            page.number,
            line.span_bbox(start, m.end(1)),
            line.text,
            "notice_code",
        )
    return None


def notice_code(ctx: Context) -> tuple[Candidate | None, bool]:
    """Best code and whether the catalog knows it."""
    catalog = load_catalog()
    scores: dict[str, list[Candidate]] = defaultdict(list)

    def add(
        code: str, page: Page, line: Line, start: int, end: int, labelled: bool, sure: float = 1.0
    ) -> None:
        scores[code].append(
            Candidate(
                code,
                _score(page, line, start, end, labelled) * sure,
                page.number,
                line.span_bbox(start, end),
                line.text[max(0, start - 20) : end + 20].strip(),
                "notice_code",
            )
        )

    # A code in the slot of a "Notice" / "Notice number" / "Letter" label, however mangled.
    for page, i, _line, hit in ctx.labelled("code_label"):
        for slot in ctx.slots(page, i, hit.end, rows_below=1):
            m = re.match(r"[\s:#.,=-]*(\S+(?:\s\S+)?)", slot.line.text[slot.start :])
            if not m:
                continue
            start = slot.start + m.start(1)
            tokens = m[1].split()
            # The code, a code broken in two ("\\T 11"), or a speck's "word" then the code.
            numbered = "letter" in _line.text[hit.start : hit.end].lower()
            for at, text in ((0, tokens[0]), (0, m[1]), (len(tokens[0]) + 1, tokens[-1])):
                found = _slot_code(text) or (_letter_number(text) if numbered else None)
                if found is not None:
                    code, edits = found
                    s0 = start + at
                    add(code, page, slot.line, s0, s0 + len(text), True, 0.93**edits)
                    break
            if found is not None:
                break
    # ACS letters print the code alone at the top of the page, with no label above or beside it.
    for line in _alone_at_top(ctx):
        found = None if _CODE.search(line.text) else _slot_code(line.text)
        if found is not None:
            add(found[0], ctx.doc.pages[0], line, 0, len(line.text), False, 0.93 ** found[1])

    for page, i, line in ctx.doc.lines():
        for m in _CODE.finditer(line.text):
            raw = m["code"]
            bare_number = raw[:1].isdigit() or raw[:1] in "Ll" and raw[1:2].isdigit()
            labelled = bool(m["pre"])
            if not labelled and i > 0:
                above = [ln for ln in page.lines if ln.row == line.row - 1]
                labelled = any(_LABEL_ABOVE.search(ln.text) for ln in above) and m.start() < 3
            if bare_number and not labelled:
                continue
            texts = ["Letter " + raw.lstrip("Ll")] if bare_number else _readings(raw)
            canonical = next((c for c in map(catalog.canonical, texts) if c), None)
            sure = 1.0
            if canonical is None:
                if not labelled or bare_number:
                    continue
                repaired = _slot_code(raw)  # "Notice name CPO05": a doubled glyph, not a code
                if repaired is not None:
                    canonical, sure = repaired[0], 0.93 ** repaired[1]
                else:
                    canonical = texts[0].upper().replace(" ", "")
            add(canonical, page, line, m.start("code"), m.end("code"), labelled, sure)
    if not scores:
        partial = _partial_code(ctx)
        return partial, partial is not None
    # An unknown code one character off a catalog code the letter also prints about as strongly
    # ("CP591" on page 2, "CP501" on page 1) is a misread of it: its reading supports the known
    # code. A scam's invented "CP2001" in the reference box beside a passing "CP2000" in the body
    # stays itself: the mention is far weaker than the box.
    known = [k for k in scores if catalog.get(k) is not None]
    for code in [k for k in scores if catalog.get(k) is None]:
        mine = max(c.confidence for c in scores[code])
        near = [
            k
            for k in known
            if one_off(code, k) and max(c.confidence for c in scores[k]) >= 0.8 * mine
        ]
        if len(near) != 1 and len(known) == 1 and _misread(code):
            near = known  # "CPO0O5" beside a "CP05" read plainly on page 2: a misread of it
        if len(near) == 1:
            for c in scores.pop(code):
                c.value = near[0]
                scores[near[0]].append(c)

    def strength(cs: list[Candidate]) -> float:
        return max(c.confidence for c in cs) + 0.05 * min(len(cs) - 1, 4)

    best = max(scores.values(), key=strength)
    top = max(best, key=lambda c: c.confidence)
    top.confidence = min(1.0, strength(best))
    return top, catalog.get(top.value) is not None
