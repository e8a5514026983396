"""Scam-versus-genuine assessment of one letter's text: signals with evidence, a score, a verdict.

Why rules and not a model: a mailroom clerk must be told *why* ("asks for gift cards"), and the
genuine/scam texts we have are a few dozen, far too few to train on. The lexicon is data
(scam_rules.toml); facts the notice catalog owns (IRS phone numbers, authorised private
collection agencies) come from `ingest.catalog` and are skipped while it is not importable.

Scoring. Each signal carries a weight in logit units (positive: scam marker, negative:
legitimacy marker); a code counts once. ``score = logistic(BIAS + scam weights + max(legitimacy
weights, -LEGIT_CAP))``. Legitimacy markers (campus address, masked SSN, "United States
Treasury") are easy to copy, so their total is capped: they can talk a weak hint down to
"genuine" but never outweigh a marker no genuine IRS letter carries (tier 5: gift cards, a payee
other than the Treasury, an agency that does not exist).

Verdict. genuine below SUSPICIOUS_AT (0.5), scam from SCAM_AT (0.8), suspicious between. A
"scam" also needs evidence that cannot be OCR noise: at least one decisive marker (weight >=
DECISIVE_WEIGHT: a payment method, another payee, a threat, a fake agency, a lure, a request
for secrets) read with certainty, and a second one when the letter also carries strong
legitimacy (CONTRADICTED_AT). Otherwise the score stops just below SCAM_AT: hints (unknown phone,
missing notice number, generic greeting) and doubtful reads send a letter to a person, never
to "scam". Chosen on the generated corpora (seeds 101, 202, 31337, 777 and heavy/fax-only
corpora 4242, 5151): every scam reaches 0.5, no genuine letter reaches 0.8.

Damaged scans. Tesseract turns smudges into word-like tokens ("payable to the United States Cae
the ate", "we won't ois to have you arrested"), so on a letter that reads as a damaged scan
(many speck lines or unreadable tokens) a marker near unreadable tokens or just after a strong
denial ("never", "won't") counts as a hint at most and says so, a payee must read as a name
(on any letter, what follows "United States" or "US" must: "the United States Cae the ate" is a
doubtful Treasury), and absence (no notice number, no IRS phone) weighs half. Fewer than
MIN_WORDS readable words is itself a signal: an unreadable page cannot vouch for itself.
Legitimacy markers are read OCR-tolerantly (campus ZIPs with O/l/S for digits, "Unlted States
Treasurv", "XK-XKX1234", "Publication l660", IRS numbers with a digit misread, two on a
damaged scan).

Negation. Genuine letters quote scam words in order to deny them ("the IRS will never ask you to
pay with gift cards", "this is not a warrant"). A hit is dropped when, in its own sentence and at
most `window_chars` before it, a negator either directly precedes it with only filler words in
between, or is followed within four words by a demand verb (ask, accept, call, send, threaten
...). A negator inside an if/unless clause does not count ("if you do not call within 24
hours, ..."), nor one separated from the hit by a new clause ("we have not received your
payment, so police ..."). A sentence that warns about scams ("scammers demand gift cards") is
advice, not a demand. Rules for names that exist only in scams (fake agencies) are never negated.
OCR damage: a strong negator ("never", "won't") followed by fillers and one short token still
denies ("will never Pe payment by gift card": the verb was lost), and a colon only starts a new
clause before a capital, digit or line break.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from ingest.privacy import mask_ids
from ingest.record import Scam, ScamSignal

# Prior log-odds before any signal: most letters a mailroom scans are genuine.
BIAS = -1.0
# Most that legitimacy markers together may subtract: less than a tier-5 weight minus the
# margin to SCAM_AT, so one never-genuine marker still yields "scam" on a polished fake.
LEGIT_CAP = 2.0
# score >= SUSPICIOUS_AT (log-odds >= 0): any unexplained marker on a letter with no
# legitimacy markers goes to a person; review is cheap, a missed scam is not.
SUSPICIOUS_AT = 0.5
# score >= SCAM_AT (log-odds >= 1.39): needs a strong marker that survives the legitimacy
# cap. Kept high because calling a genuine final notice a scam costs someone their hearing
# rights; weak hints alone (unknown phone, no notice number) stop at "suspicious".
SCAM_AT = 0.8
EVIDENCE_MAX = 80
# Fewer readable words (three letters or more, see _readable) than this and the text cannot vouch
# for the letter (a blank scan, or one tesseract could not read): a real notice has hundreds, and
# the worst-read genuine heavy scans on the generated corpora still have 50 or more.
MIN_WORDS = 25
_LETTER = re.compile(r"[A-Za-z]")
# A damaged scan: at least NOISY_AT of its tokens unreadable (see _readable), or at least
# SPECK_LINES_AT of its lines (when it has MIN_LINES or more) specks of at most 3 characters
# (":", "ee", "i"), which is how tesseract reads smudges, fading and noise. On the generated
# corpora clean, light, stamped, turned and faxed scans have at most 8% unreadable tokens and
# 16% speck lines (90% of them under 6%); heavy scans have a median of 28% speck lines, and
# 90% of them have 18% or more. Tesseract reads even garbage as word-like tokens ("Cae the
# ate"), so the speck lines are the surer sign.
NOISY_AT = 0.08
SPECK_LINES_AT = 0.17
MIN_LINES = 20
_SPECK_LINE = re.compile(r"\S{1,3}")
_SHORT_FIELD = re.compile(r"\d{1,3}|[A-Z]{2,3}")  # a page number, a state: not specks
# On a damaged scan, a marker with at least CONTEXT_JUNK unreadable tokens within CONTEXT_BEFORE
# characters before it (where a lost "never" or "won't" would be) or CONTEXT_AFTER after it is
# uncertain: it may be OCR garbage or a denial OCR broke. It then weighs UNCERTAIN_WEIGHT at
# most, a hint, and its message says so.
CONTEXT_JUNK = 2
CONTEXT_BEFORE = 120
CONTEXT_AFTER = 40
UNCERTAIN_WEIGHT = 1.0
# A short line asking whether the notice is real, or warning of scams, heads the section where a
# genuine letter quotes the threats scammers make; hits up to this far after it are not certain.
WARNING_SECTION_CHARS = 300
_WARNING_HEADING = re.compile(
    r"^[^\n]*(?:\b(?:notice|letter)\s+real\b|\bscams?\b|\bbeware\b)[^\n]*$", re.I | re.M
)
# On a damaged scan, absence is weak evidence: a notice number or IRS phone may be there but
# unreadable, so "no notice number" and "only unknown phones" count this much of their weight.
NOISY_ABSENCE = 0.5
# "scam" needs at least one marker of weight >= DECISIVE_WEIGHT read with certainty (a payment
# method, payee, threat, fake agency, lure, request for secrets...). Hints (an unknown phone, a
# missing or unknown notice number, a generic greeting, court words) and uncertain markers can
# add up to "suspicious" at most: without a decisive marker the log-odds stop just short of
# SCAM_AT. A person then looks at it, and garbled text alone never calls a real notice a scam.
DECISIVE_WEIGHT = 2.0
# A single decisive marker on a letter that also carries CONTRADICTED_AT or more of legitimacy
# weight (say an IRS campus address, an IRS phone, the Treasury as payee and a known notice
# number) is contradicted: a misread on a genuine notice or one slip in a polished fake. Either
# way a person should look, so it stops at "suspicious"; two markers make it a scam. (On the
# generated corpora no scam pairs one marker with this much legitimacy; misread genuine notices
# do.)
CONTRADICTED_AT = 3.0
_HINTS_ONLY_LOGIT = math.log(SCAM_AT / (1 - SCAM_AT)) - 0.01
UNCERTAIN_NOTE = " (Read from a damaged part of the scan: check the paper.)"

_RULES_FILE = "scam_rules.toml"

# OCR confusions folded into phrase patterns (letters are matched case-insensitively).
_OCR_CLASSES = {"o": "[o0]", "i": "[il1|!]", "l": "[li1|]", "s": "[s5]"}
# ...and the other way in numbers ("Publication l66O", "Form 12l53").
_OCR_DIGITS = {"0": "[0o]", "1": "[1il|]", "5": "[5s]", "8": "[8b]"}
_ABBREVIATIONS = frozenset(
    ["inc", "co", "corp", "ltd", "no", "nos", "st", "mr", "mrs", "ms", "dr", "jr", "sr", "vs",
     "etc", "dept", "ave", "blvd", "rd", "ste", "apt", "fl", "ft", "mt", "pub", "rev", "sec"]
)  # fmt: skip
_TRANSLATE = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u02bc": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u00a0": " ", "\t": " ", "\r": "\n", "\f": "\n\n", "\u00ad": "",
    }
)  # fmt: skip
_DEHYPHEN = re.compile(r"([a-z])-\n[ ]*([a-z])")
_SPACES = re.compile(r"[ ]+")
_LINE_EDGES = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# OCR reads "$" as "S" before an amount: "S1,075.21".
_S_FOR_DOLLAR = re.compile(r"(?<![A-Za-z])S ?(?=\d{1,3}(?:,\d{3})*\.\d{2}\b)")
_BOUNDARY = re.compile(r"[!?;\u2022\u00b7\u25aa\u25cf\u25a0]|\n\s*\n|\n(?=[-*] )|\.(?=\s|$)")
_TOKEN_BEFORE = re.compile(r"([A-Za-z]+)$")
# A sentence does not start in lower case: a period before one is an OCR speck or an abbreviation.
_LOWER_AFTER = re.compile(r"\s[a-z]")
_WORD = re.compile(r"[a-z']+")
_NONBLANK_LINE = re.compile(r"[^\n]*\S[^\n]*")
# A 9-digit SSN/EIN-looking number: 123-45-6789, 123 45 6789, 123456789, 12-3456789.
# OCR may double a separator: "800-829. 1040".
_PHONE = re.compile(
    r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(([2-9]\d{2})\)\s?|([2-9]\d{2})[\s.-]{1,2})(\d{3})[\s.-]{1,2}"
    r"(\d{4})(?!\d)"
)
_FAX_BEFORE = re.compile(r"fax\W{0,3}(?:\w+\W+){0,2}$", re.I)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@((?:[a-z0-9-]+\.)+[a-z]{2,})", re.I)
_NAME_RUN = re.compile(r"[A-Z][\w&.'-]*(?:,?\s+[A-Z][\w&.'-]*){0,4}")
# Tokens OCR read as something: bullets and table rules (neither word nor junk), words in one
# case pattern, numbers, amounts, dates, phones, form and notice codes, masked IDs.
_LAYOUT_TOKEN = re.compile(r"[^\w\s]{1,3}")
_WORDISH = re.compile(
    r"[(\[\"'$#*]*"
    r"(?:[A-Za-z]+(?:['.&/-][A-Za-z]+)*\.?"
    r"|\$?\d[\d,]*(?:\.\d+)?(?:[-/:.]\d+)*%?"
    r"|[A-Za-z]{1,4}-?\d{1,6}[A-Za-z]{0,2}"
    r"|[Xx*]{2,3}-?[Xx*]{2,3}-?\d{4})"
    r"[.,:;!?)\]\"']*"
)
_VOWEL = re.compile(r"[aeiouy]", re.I)
# Not names: OCR fuses them into a "host" ("the.tax"), and a collector's name that reads as one
# ("assigned your account to: The law requires") was lost.
_FUNCTION_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
     "or", "our", "that", "the", "this", "to", "we", "with", "you", "your"]
)  # fmt: skip
_NON_LETTERS = re.compile(r"[^A-Za-z]")


def _readable(token: str) -> bool:
    """Whether OCR read a token as a plausible word or number (not 'cAe', 'wEE3', 'tG~s')."""
    if _LAYOUT_TOKEN.fullmatch(token):
        return True
    if not _WORDISH.fullmatch(token):
        return False
    letters = _NON_LETTERS.sub("", token)
    if len(letters) < 2 or letters.isupper():
        return True
    if not (letters.islower() or (letters[0].isupper() and letters[1:].islower())):
        return False
    return len(letters) < 4 or bool(_VOWEL.search(letters))


def _junk_tokens(text: str) -> tuple[int, int]:
    """(unreadable, counted) tokens of `text`; bullets and rules count as neither."""
    junk = counted = 0
    for token in text.split():
        if _LAYOUT_TOKEN.fullmatch(token):
            continue
        counted += 1
        junk += not _readable(token)
    return junk, counted


# --------------------------------------------------------------------------------------------
# The lexicon, compiled once
# --------------------------------------------------------------------------------------------


def _phrase_body(phrase: str) -> str:
    """Regex for a plain phrase that survives OCR: confusable glyphs, split or merged words."""
    stem = phrase.endswith("*")
    words = phrase.rstrip("*").lower().split()
    parts: list[str] = []
    for word in words:
        chars: list[str] = []
        for ch in word:
            if ch.isalpha():
                chars.append(_OCR_CLASSES.get(ch, ch))
            elif ch in _OCR_DIGITS:
                chars.append(_OCR_DIGITS[ch])
            elif ch == "'":
                chars.append("'?")
            elif ch == "-":
                chars.append("[ -]?")
            else:
                chars.append(re.escape(ch))
        # OCR breaks long words ("w ith", "a mount"): allow one space between letters.
        parts.append(" ?".join(chars) if len(word) >= 5 else "".join(chars))
    body = r"[\s-]*".join(parts)
    return body if stem else rf"{body}(?:s|es)?(?![a-z])"


def _phrases_regex(phrases: list[str]) -> str:
    """One alternation for all of a rule's phrases: one pass over the text per rule."""
    return rf"(?<![a-z0-9])(?:{'|'.join(_phrase_body(p) for p in phrases)})"


@dataclass(frozen=True, slots=True)
class _Rule:
    code: str
    weight: float
    message: str
    regex: re.Pattern[str]
    negatable: bool
    context: re.Pattern[str] | None
    unless_near: re.Pattern[str] | None
    near_chars: int
    number_max: int | None
    unless_followed_by: tuple[str, ...]
    name_continues: re.Pattern[str] | None


def _any_of(patterns: list[str] | None, flags: int = re.I) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags) if patterns else None


@dataclass(frozen=True)
class _Lexicon:
    rules: tuple[_Rule, ...]
    computed: dict[str, tuple[float, str]]
    negator: re.Pattern[str]
    pseudo: re.Pattern[str]
    demand_verb: re.Pattern[str]
    filler: re.Pattern[str]
    conditional: re.Pattern[str]
    reset: re.Pattern[str]
    warning: re.Pattern[str]
    strong_negator: re.Pattern[str]
    not_garbled: re.Pattern[str]
    window: int
    payment_demand: re.Pattern[str]
    notice_codes: tuple[re.Pattern[str], ...]
    web: re.Pattern[str]
    allowed_suffixes: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    pca_claim: re.Pattern[str]
    irs_strong: tuple[re.Pattern[str], ...]
    irs_weak: tuple[re.Pattern[str], ...]
    not_irs: tuple[re.Pattern[str], ...]
    campus_cities: tuple[str, ...]
    campus_zips: frozenset[str]


def _read_rules() -> str:
    return resources.files("classifiers").joinpath(_RULES_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    data: dict[str, Any] = tomllib.loads(_read_rules())
    rules = []
    for r in data["rule"]:
        phrases = r.get("phrases", [])
        sources = ([_phrases_regex(phrases)] if phrases else []) + list(r.get("patterns", []))
        combined = "|".join(f"(?:{s})" for s in sources)
        rules.append(
            _Rule(
                code=r["code"],
                weight=float(r["weight"]),
                message=r["message"],
                regex=re.compile(combined, re.I | re.M),
                negatable=bool(r.get("negatable", False)),
                context=_any_of(r.get("context")),
                unless_near=_any_of(r.get("unless_near")),
                near_chars=int(r.get("near_chars", 200)),
                number_max=r.get("number_max"),
                unless_followed_by=tuple(_letters(s) for s in r.get("unless_followed_by", [])),
                name_continues=_any_of(r.get("name_continues")),
            )
        )
    neg = data["negation"]
    web = data["web"]
    tlds = "|".join(sorted(set(web["tlds"]), key=len, reverse=True))
    letter = data["irs_letter"]
    return _Lexicon(
        rules=tuple(rules),
        computed={k: (float(v["weight"]), v["message"]) for k, v in data["computed"].items()},
        negator=re.compile(neg["negators"], re.I),
        pseudo=re.compile(neg["pseudo"], re.I),
        demand_verb=re.compile(neg["demand_verbs"], re.I),
        filler=re.compile(neg["direct_fillers"], re.I),
        conditional=re.compile(neg["conditional"], re.I),
        reset=re.compile(neg["reset"], re.I),
        warning=re.compile(neg["warning"], re.I),
        strong_negator=re.compile(neg["strong_negators"], re.I),
        not_garbled=re.compile(neg["not_garbled_verbs"], re.I),
        window=int(neg["window_chars"]),
        payment_demand=_any_of(data["payment_demand"]["patterns"]),  # type: ignore[arg-type]
        notice_codes=tuple(re.compile(p, re.I) for p in data["notice_codes"]["patterns"]),
        web=re.compile(
            rf"(?<![\w@.-])(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+"
            rf"(?:{tlds}))(?![\w-])(?:/[^\s]*)?",
            re.I,
        ),
        allowed_suffixes=tuple(web["allowed_suffixes"]),
        allowed_domains=tuple(web["allowed_domains"]),
        pca_claim=_any_of(data["pca"]["claim_patterns"]),  # type: ignore[arg-type]
        irs_strong=tuple(re.compile(p, re.I | re.M) for p in letter["irs_strong"]),
        irs_weak=tuple(re.compile(p, re.I | re.M) for p in letter["irs_weak"]),
        not_irs=tuple(re.compile(p, re.I | re.M) for p in letter["not_irs"]),
        campus_cities=tuple(_letters(c) for c in data["campus"]["cities"]),
        campus_zips=frozenset(data["campus"]["zips"]),
    )


# --------------------------------------------------------------------------------------------
# The catalog API (owned by a colleague's module; optional until it exists)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogAPI:
    """The two catalog facts the assessment needs, plus PCA phones when the catalog has them."""

    is_irs_phone: Callable[[str], bool]
    pca_by_name: Callable[[str], Any]
    is_pca_phone: Callable[[str], bool] | None = None
    pca_names: tuple[str, ...] = ()  # names and aliases, for OCR-tolerant matching
    irs_numbers: frozenset[str] = frozenset()  # ten digits each, to spot OCR-misread IRS numbers


@lru_cache(maxsize=1)
def _catalog_api() -> CatalogAPI | None:
    """Bind to ingest.catalog if importable; None means phone and PCA checks are skipped."""
    try:
        from ingest import catalog
    except ImportError:
        return None
    source: Any = catalog
    if not hasattr(catalog, "is_irs_phone"):
        source = catalog.load_catalog()
    is_irs_phone = getattr(source, "is_irs_phone", None)
    pca_by_name = getattr(source, "pca_by_name", None)
    if is_irs_phone is None or pca_by_name is None:
        return None
    is_pca_phone = getattr(source, "is_pca_phone", None)
    pcas = getattr(source, "pcas", None)
    digits_of = getattr(catalog, "phone_digits", None)
    if is_pca_phone is None and pcas is not None and digits_of is not None:
        pca_numbers = frozenset(digits_of(p.phone) for p in pcas)

        def is_pca_phone(number: str) -> bool:
            return digits_of(number) in pca_numbers

    names = tuple(n for p in pcas or () for n in (p.name, *getattr(p, "aliases", ())))
    phones = getattr(source, "irs_phones", None) or ()
    numbers = (
        frozenset(d for d in (digits_of(p.number) for p in phones) if d)
        if digits_of is not None
        else frozenset()
    )
    return CatalogAPI(is_irs_phone, pca_by_name, is_pca_phone, names, numbers)


# --------------------------------------------------------------------------------------------
# One letter's text, normalised, with sentence bounds and negation
# --------------------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    if not s.isascii():  # OCR's stray accents ("will néver ask") must not hide a word
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    s = _DEHYPHEN.sub(r"\1\2", s)
    s = _SPACES.sub(" ", s)
    s = _LINE_EDGES.sub("\n", s)
    s = _MANY_NEWLINES.sub("\n\n", s)
    return _S_FOR_DOLLAR.sub("$", s).strip()


def _garbled_verb_only(lex: _Lexicon, words: list[str]) -> bool:
    """'never Pe payment by': fillers and one short token where OCR lost the demand verb."""
    others = [w for w in words if not lex.filler.fullmatch(w)]
    return (
        len(words) <= 5
        and len(others) == 1
        and len(others[0]) <= 3
        and not lex.not_garbled.fullmatch(others[0])
    )


class _Letter:
    def __init__(self, text: str, lex: _Lexicon) -> None:
        self.lex = lex
        self.text = _normalise(text)
        self.masked = mask_ids(self.text)  # same length: offsets are shared
        self._starts, self._ends = self._sentence_spans()

    def _sentence_spans(self) -> tuple[list[int], list[int]]:
        starts, ends = [0], []
        for m in _BOUNDARY.finditer(self.text):
            if m.group() == ".":
                before = _TOKEN_BEFORE.search(self.text, max(0, m.start() - 12), m.start())
                token = before.group(1).lower() if before else ""
                if len(token) == 1 or token in _ABBREVIATIONS:  # "U.S.", "P.O.", "Inc."
                    continue
                if _LOWER_AFTER.match(self.text, m.end()):  # OCR speck: "by local. police"
                    continue
            ends.append(m.start())
            starts.append(m.end())
        ends.append(len(self.text))
        return starts, ends

    def sentence(self, pos: int) -> tuple[int, int]:
        i = bisect_right(self._starts, pos) - 1
        return self._starts[i], self._ends[i]

    def negated(self, start: int) -> bool:
        """Whether the sentence denies the hit at `start` or only warns about scams."""
        lex = self.lex
        s_start, s_end = self.sentence(start)
        if lex.warning.search(self.text, s_start, s_end):
            return True
        lo = max(s_start, start - lex.window)
        span = self.text[lo:start]
        for neg in reversed(list(lex.negator.finditer(span))):
            if lex.pseudo.match(span, neg.start()):
                continue
            clause = re.split(r"[,;:]", span[: neg.start()])[-1]
            if lex.conditional.search(clause):
                continue
            between = span[neg.end() :]
            if lex.reset.search(between):
                return False
            words = [w.strip("'") for w in _WORD.findall(between.lower())]  # "never 'demand"
            if len(words) <= 6 and all(lex.filler.fullmatch(w) for w in words):
                return True
            # "No one (from the IRS) will ask": the subject sits between negator and verb.
            reach = 8 if neg.group().lower() == "nobody" or words[:1] == ["one"] else 4
            if any(lex.demand_verb.fullmatch(w) for w in words[:reach]):
                return True
            if lex.strong_negator.fullmatch(neg.group()) and _garbled_verb_only(lex, words):
                return True
        return False

    def evidence(self, start: int, end: int) -> str:
        """At most EVIDENCE_MAX characters of the letter around the hit, IDs masked."""
        s_start, s_end = self.sentence(start)
        end = max(end, start + 1)
        room = max(0, EVIDENCE_MAX - (end - start)) // 2
        lo, hi = max(s_start, start - room), min(max(s_end, end), end + room)
        snippet = self.masked[lo:hi]
        if lo > s_start and " " in snippet[: start - lo]:
            snippet = snippet[snippet.index(" ") + 1 :]
        if hi < s_end and " " in snippet[end - hi :]:
            snippet = snippet[: snippet.rindex(" ")]
        snippet = " ".join(snippet.split())
        return snippet if len(snippet) <= EVIDENCE_MAX else snippet[: EVIDENCE_MAX - 1] + "…"

    @cached_property
    def readable_words(self) -> int:
        """Words of three letters or more that OCR read as words."""
        return sum(1 for w in self.text.split() if len(_LETTER.findall(w)) >= 3 and _readable(w))

    @cached_property
    def noisy(self) -> bool:
        """A damaged scan: many unreadable tokens or many speck lines."""
        junk, counted = _junk_tokens(self.text)
        if counted > 0 and junk / counted >= NOISY_AT:
            return True
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        specks = sum(
            bool(_SPECK_LINE.fullmatch(line)) and not _SHORT_FIELD.fullmatch(line) for line in lines
        )
        return len(lines) >= MIN_LINES and specks / len(lines) >= SPECK_LINES_AT

    def uncertain(self, start: int, end: int) -> bool:
        """On a damaged scan, whether the hit at [start, end) sits among unreadable tokens or
        just after a strong denial that OCR may have cut off from it."""
        if self._in_warning_section(start):
            return True
        if not self.noisy:
            return False
        lo, hi = max(0, start - CONTEXT_BEFORE), min(len(self.text), end + CONTEXT_AFTER)
        # Whole tokens only: the window's cut ends are not OCR damage.
        while 0 < lo < start and not self.text[lo - 1].isspace():
            lo += 1
        while hi < len(self.text) and not self.text[hi].isspace():
            hi += 1
        # A strong denial just before ("will never ask ... and we won't <garbled> to have you
        # arrested") may own the hit across a sentence break that OCR made or a box it merged.
        if self.lex.strong_negator.search(self.text, lo, start):
            return True
        return _junk_tokens(self.text[lo:hi])[0] >= CONTEXT_JUNK

    def _in_warning_section(self, start: int) -> bool:
        """Whether the hit follows a scam-warning heading ("Is this notice real?"): genuine
        letters list the scammers' threats there, and OCR may have lost the "never" that denies
        them. Such a hit is not certain, whatever the rest of the scan."""
        lo = max(0, start - WARNING_SECTION_CHARS)
        return any(
            len(m.group().split()) <= 8 for m in _WARNING_HEADING.finditer(self.text, lo, start)
        )

    @cached_property
    def first_lines(self) -> str:
        return "\n".join(self.text.splitlines()[:6])

    @cached_property
    def letterhead(self) -> str:
        """The sender's name block: the text up to the end of the fourth non-blank line."""
        lines = list(_NONBLANK_LINE.finditer(self.text))[:4]
        return self.text[: lines[-1].end()] if lines else ""


# --------------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------------


def _letters(s: str) -> str:
    return re.sub(r"[^a-z]", "", s.lower())


def _reads_as(text: str, pos: int, targets: tuple[str, ...]) -> bool:
    """Whether the letters after `pos` read as one of `targets`, >= 80% alike (OCR misreads)."""
    after = _letters(text[pos : pos + 80])
    candidates = {after, after.removeprefix("the")}
    return any(
        SequenceMatcher(None, c[: len(t)], t).ratio() >= 0.8 for c in candidates for t in targets
    )


def _followed_by(text: str, pos: int, targets: tuple[str, ...]) -> bool:
    """Whether the words after `pos` read as one of `targets`, or as an illegible Treasury."""
    return _unreadable_treasury(text[pos : pos + 40]) or _reads_as(text, pos, targets)


# "United States ...", "U.S. ..." or "US, ...", not the pronoun "us".
# OCR may strew specks read as stray marks or digits before it ("payable to 9 the 2 United").
_US_THEN = re.compile(
    r"\s*:?\s*(?:(?:[^\sA-Za-z]{1,2}|the)\s+){0,3}"
    r"(?:united\s+states|u\.\s?s\.?|(?-i:US)\b)['\".,]*\s+(\S*)",
    re.IGNORECASE,
)
# The payee's name: up to the next punctuation, across one line break (a stub line may wrap).
_PAYEE_NAME = re.compile(r"[^\n.,;:!?]{0,60}(?:\n[^\n.,;:!?]{0,40})?")


def _unreadable_treasury(after: str) -> bool:
    """'payable to the United States §' or '... U.S. Trask': a damaged stub line still reads
    as the Treasury when the word after "United States" is illegible or starts like it; a
    readable other name ("United States Tax Settlement") is not excused."""
    m = _US_THEN.match(after)
    if m is None:
        return False
    word = re.sub(r"[^a-z]", "", m[1].lower())
    return len(word) < 3 or word.startswith("tr")


def _doubtful_payee(letter: _Letter, pos: int) -> bool:
    """Whether the payee named after `pos` may be a misread 'United States Treasury'.

    A payee is a name. After "United States" (or "US", "U.S.") the only payee a real notice
    names is the Treasury, so the rest must read as another name ("United States Tax Settlement
    Office"); a fragment ("United States Cae"), words that trail off in lower case ("Cae the
    ate") or nothing at all ("the US, pean") are more likely the Treasury misread. "payable to."
    names no one. Any payee must read as a name ("the Uni ahin tr tha" is a damaged line).
    """
    text = letter.text
    if text[pos : pos + 1] == "." or text[pos : pos + 2] == " .":
        return True
    m = _US_THEN.match(text, pos)
    if m is not None:
        rest = _PAYEE_NAME.match(text, m.start(1)).group().split()
        if len(rest) == 1 and (letter.noisy or len(_letters(rest[0])) <= 3):
            return True  # "United States Cae", "United States Samide": a fragment
        return not rest or not _name_like(rest)
    name = _PAYEE_NAME.match(text, pos).group().split()
    return not _name_like(name[:4])


_CONNECTORS = frozenset(["of", "the", "and", "&", "for", "de"])


def _name_like(words: list[str]) -> bool:
    """Capitalised readable words, one of four letters or more, or an acronym ('IRS', 'I.R.S.')."""
    if not words or not all(
        _readable(w) and (w[0].isupper() or w.lower() in _CONNECTORS) for w in words
    ):
        return False
    letters = [_letters(w) for w in words]
    return any(len(x) >= 4 for x in letters) or all(w.replace(".", "").isupper() for w in words)


def _rule_hits(letter: _Letter, rule: _Rule) -> Iterator[tuple[re.Match[str], bool]]:
    """Qualifying hits of `rule`, each with whether it was read with certainty."""
    for m in rule.regex.finditer(letter.text):
        if rule.number_max is not None:
            n = m.groupdict().get("n")
            if n is not None and int(n) > rule.number_max:
                continue
        if rule.context is not None:
            s_start, s_end = letter.sentence(m.start())
            if not rule.context.search(letter.text, s_start, s_end):
                continue
        if rule.unless_near is not None:
            lo = max(0, m.start() - rule.near_chars)
            if rule.unless_near.search(letter.text, lo, m.end() + rule.near_chars):
                continue
        certain = True
        if rule.unless_followed_by:
            named = rule.name_continues and rule.name_continues.match(letter.text, m.end())
            if not named and _followed_by(letter.text, m.end(), rule.unless_followed_by):
                continue
            certain = bool(named) or not _doubtful_payee(letter, m.end())
        if rule.negatable and letter.negated(m.start()):
            continue
        # A name only scams use reads the same in any context; a demand may be a garbled denial.
        if rule.negatable and letter.uncertain(m.start(), m.end()):
            certain = False
        yield m, certain


def _first_hit(letter: _Letter, rule: _Rule) -> tuple[re.Match[str], bool] | None:
    """The first certain hit, else the first uncertain one."""
    fallback = None
    for m, certain in _rule_hits(letter, rule):
        if certain:
            return m, True
        fallback = fallback or (m, False)
    return fallback


def _signal(
    letter: _Letter,
    code: str,
    weight: float,
    message: str,
    m: re.Match[str] | None,
    certain: bool = True,
) -> ScamSignal:
    evidence = letter.evidence(m.start(), m.end()) if m is not None else None
    if not certain and weight > UNCERTAIN_WEIGHT:
        weight, message = UNCERTAIN_WEIGHT, message + UNCERTAIN_NOTE
    return ScamSignal(code=code, message=message, evidence=evidence, weight=weight)


def _computed(
    letter: _Letter, code: str, m: re.Match[str] | None, certain: bool = True
) -> ScamSignal:
    weight, message = letter.lex.computed[code]
    return _signal(letter, code, weight, message, m, certain)


def _code_key(code: str) -> str:
    """'Notice CP 71C' -> 'CP71C', 'LTR 3172' / 'Letter 3172' -> '3172'."""
    s = re.sub(r"[^A-Z0-9]", "", code.upper())
    s = re.sub(r"^(?:IRS)?(?:NOTICE|LETTER|LTR|FORM)", "", s)
    return s


def _printed_codes(letter: _Letter) -> dict[str, re.Match[str]]:
    found: dict[str, re.Match[str]] = {}
    for rx in letter.lex.notice_codes:
        for m in rx.finditer(letter.text):
            found.setdefault(_code_key(m.group()), m)
    return found


def _notice_signals(
    letter: _Letter, notice_code: str | None, notice_known: bool, amount_due: Decimal | None
) -> list[ScamSignal]:
    printed = _printed_codes(letter)
    if notice_code:
        key = _code_key(notice_code)
        if printed and key not in printed:
            return [_computed(letter, "notice_code_inconsistent", next(iter(printed.values())))]
        hit = printed.get(key)
        if not notice_known:
            return [_computed(letter, "notice_code_unknown", hit)]
        return [_computed(letter, "notice_code_known", hit)]
    if printed:
        return []
    demand = letter.lex.payment_demand.search(letter.text)
    if demand is not None or (amount_due is not None and amount_due > 0):
        return [_computed(letter, "notice_code_missing", demand)]
    return []


# The IRS's own toll-free exchange: a letter that sends you to 800-829-xxxx sends you to the IRS,
# which is no use to an impostor, so an unlisted number there is not "unknown".
_IRS_EXCHANGE = "800829"


def _irs_like(digits: str, known: frozenset[str], misreads: int = 1) -> bool:
    """An unlisted number in the IRS exchange, or a listed one with up to `misreads` digits
    misread by OCR. A damaged scan allows two ("800-820-0822" for 800-829-0922; a random number
    is that close to one of the catalog's few dozen about once in 100,000 draws); a clean page
    one, since there a near miss is more likely a look-alike than a misread."""
    if digits.startswith(_IRS_EXCHANGE):
        return True
    return any(sum(a != b for a, b in zip(digits, k, strict=True)) <= misreads for k in known)


def _phone_signals(letter: _Letter, api: CatalogAPI) -> list[ScamSignal]:
    irs: re.Match[str] | None = None
    unknown: re.Match[str] | None = None
    collector = False
    for m in _PHONE.finditer(letter.text):
        if _FAX_BEFORE.search(letter.text, max(0, m.start() - 25), m.start()):
            continue  # fax lines are often unlisted numbers on genuine letters
        number = f"{m.group(1) or m.group(2)}-{m.group(3)}-{m.group(4)}"
        if api.is_irs_phone(number):
            irs = irs or m
        elif api.is_pca_phone is not None and api.is_pca_phone(number):
            collector = True
        elif _irs_like(number.replace("-", ""), api.irs_numbers, 2 if letter.noisy else 1):
            continue  # neither vouches for the letter nor counts against it
        else:
            unknown = unknown or m
    if irs is not None:
        return [_computed(letter, "irs_phone", irs)]
    if unknown is not None and not collector:
        return [_computed(letter, "phone_unknown_only", unknown)]
    return []


_ASSIGNEE_GENERIC = re.compile(r"(?:a|an|the|one|another|us|our)\b")  # case-sensitive


def _names_pca(api: CatalogAPI, text: str) -> bool:
    """Whether `text` names an authorised collector: exactly, or misread by OCR at a line start."""
    if api.pca_by_name(text):
        return True
    heads = [_letters(line) for line in text.splitlines()]
    for name in api.pca_names:
        key = _letters(name)
        if len(key) >= 5 and any(
            SequenceMatcher(None, head[: len(key)], key).ratio() >= 0.8 for head in heads
        ):
            return True
    return False


def _pca_signals(letter: _Letter, api: CatalogAPI) -> list[ScamSignal]:
    """A claim to collect for the IRS must come from, or name, an authorised agency.

    Where the name must be depends on whose claim it is: "assigned your account to <Name>" names
    the collector right there, and a letterhead tagline ("Authorized IRS Collection Partner")
    speaks for the letterhead. A fake that mentions a real agency elsewhere ("working alongside
    ConServe") is not thereby authorised. Other claims accept a name anywhere in the letter.
    """
    for m in letter.lex.pca_claim.finditer(letter.text):
        if letter.negated(m.start()):
            continue
        s_start, s_end = letter.sentence(m.start())
        assigns = m.group().lower().endswith("to")
        after = letter.text[m.end() : min(s_end, m.end() + 120)].lstrip(" :\n\"'*-\u2022")
        assignee = _NAME_RUN.match(after) if assigns else None
        lost = assignee is not None and assignee.group().lower() in _FUNCTION_WORDS
        if assignee and not _ASSIGNEE_GENERIC.match(after) and not lost:
            named = _names_pca(api, assignee.group())
        elif not assigns and m.start() < len(letter.letterhead):
            named = _names_pca(api, letter.letterhead)
        else:
            candidates = [letter.text, letter.first_lines, letter.text[s_start:s_end]]
            candidates += _NAME_RUN.findall(letter.text[s_start:s_end])
            named = any(api.pca_by_name(c) for c in candidates)
        if named:
            return []
        # "assigned your account to: The law requires...": the name is lost, not unlisted; and
        # on a damaged scan the collector's name may be there but unreadable.
        certain = not lost and not letter.uncertain(*m.span())
        return [_computed(letter, "pca_not_authorised", m, certain)]
    return []


def _web_signals(letter: _Letter) -> list[ScamSignal]:
    lex = letter.lex
    hits = [(m, m.group(1)) for m in lex.web.finditer(letter.text)]
    hits += [(m, m.group(1)) for m in _EMAIL.finditer(letter.text)]
    for m, host in sorted(hits, key=lambda h: h[0].start()):
        host = host.lower().rstrip(".")
        if host.endswith(lex.allowed_suffixes):
            continue
        if any(host == d or host.endswith("." + d) for d in lex.allowed_domains):
            continue
        if "@" not in m.group() and _merged_words(m.group().lower(), host):
            continue
        return [_computed(letter, "web_address_not_gov", m, not letter.uncertain(*m.span()))]
    return []


def _merged_words(found: str, host: str) -> bool:
    """Whether a bare host ('the.tax year') is two words run together, not a web address."""
    return not found.startswith(("http", "www")) and host.split(".")[0] in _FUNCTION_WORDS


# "City, ST 12345-6789": OCR may misread the ZIP's digits as letters, drop the comma or the hyphen.
_CITY_ZIP = re.compile(
    r"([A-Za-z][A-Za-z.' ]{2,24}?)[,.]?\s+[A-Za-z]{2}[.,]?\s+([\dOoIlSB]{5})(?:[-\s]?\d{4})?(?!\d)"
)
_ZIP_DIGITS = str.maketrans("OoIlSB", "001158")


def _campus_signals(letter: _Letter) -> list[ScamSignal]:
    """An IRS campus or P.O. box city with its ZIP, read through OCR misreads."""
    lex = letter.lex
    for m in _CITY_ZIP.finditer(letter.text):
        if m[2].translate(_ZIP_DIGITS) not in lex.campus_zips:
            continue
        city = _letters(m[1])
        if any(
            SequenceMatcher(None, city[-len(c) :], c).ratio() >= 0.75 for c in lex.campus_cities
        ):
            return [_computed(letter, "irs_campus_address", m)]
    return []


# "payable to", "made payable to", "payments go only to": where the stub names the payee.
_PAYEE_INTRO = re.compile(
    r"\b(?:p\s?a\s?y\s?a\s?b\s?[l1i]\s?e|made\s+out|go(?:es)?\s+only)\s+t[o0](?:the)?\b\s*:?",
    re.I,
)
_TREASURY = ("unitedstatestreasury", "ustreasury", "unitedstatesdepartmentofthetreasury")


def _treasury_payee(letter: _Letter) -> list[ScamSignal]:
    """'payable to the Unlted States Treasurv': the Treasury as payee, through OCR misreads."""
    company = next((r.name_continues for r in letter.lex.rules if r.name_continues), None)
    for m in _PAYEE_INTRO.finditer(letter.text):
        named = company is not None and company.match(letter.text, m.end())
        if _reads_as(letter.text, m.end(), _TREASURY) and not named:
            return [_computed(letter, "payee_treasury", m)]
    return []


_ABSENCE = frozenset({"notice_code_missing", "phone_unknown_only"})


def _absence_discounted(signal: ScamSignal) -> ScamSignal:
    """On a damaged scan the missing notice number or IRS phone may just be unreadable."""
    if signal.code not in _ABSENCE:
        return signal
    return signal.model_copy(update={"weight": signal.weight * NOISY_ABSENCE})


def _strength(signal: ScamSignal) -> tuple[bool, float]:
    # Scam markers first, strongest first; then legitimacy markers, strongest first.
    return (signal.weight < 0, -abs(signal.weight))


def score_of(signals: list[ScamSignal]) -> float:
    """Logistic of BIAS + scam weights + legitimacy weights capped at -LEGIT_CAP; just below
    SCAM_AT without a decisive marker or with one that strong legitimacy contradicts."""
    scam = sum(s.weight for s in signals if s.weight > 0)
    legit = max(sum(s.weight for s in signals if s.weight < 0), -LEGIT_CAP)
    logit = BIAS + scam + legit
    decisive = sum(s.weight >= DECISIVE_WEIGHT for s in signals)
    legit_all = sum(s.weight for s in signals if s.weight < 0)
    if decisive == 0 or (decisive == 1 and legit_all <= -CONTRADICTED_AT):
        logit = min(logit, _HINTS_ONLY_LOGIT)
    return 1.0 / (1.0 + math.exp(-logit))


def verdict_of(score: float) -> str:
    if score >= SCAM_AT:
        return "scam"
    return "suspicious" if score >= SUSPICIOUS_AT else "genuine"


def assess(
    text: str,
    *,
    notice_code: str | None = None,
    notice_known: bool = False,
    amount_due: Decimal | None = None,
) -> Scam:
    """Scam assessment of a whole letter's text (pages joined by "\\n\\f")."""
    lex = _lexicon()
    letter = _Letter(text, lex)
    signals: list[ScamSignal] = []
    for rule in lex.rules:
        hit = _first_hit(letter, rule)
        if hit is not None:
            signals.append(_signal(letter, rule.code, rule.weight, rule.message, *hit))
    signals += _notice_signals(letter, notice_code, notice_known, amount_due)
    if letter.readable_words < MIN_WORDS:
        signals.append(_computed(letter, "too_little_text", None))
    signals += _web_signals(letter)
    signals += _campus_signals(letter) + _treasury_payee(letter)
    api = _catalog_api()
    if api is not None:
        signals += _phone_signals(letter, api)
        signals += _pca_signals(letter, api)
    if letter.noisy:
        signals = [_absence_discounted(s) for s in signals]
    signals.sort(key=_strength)
    score = score_of(signals)
    return Scam(verdict=verdict_of(score), score=round(score, 4), signals=signals)


def looks_like_irs_letter(text: str) -> bool:
    """Whether text reads as a letter from the IRS (genuine or imitated), not a bank or state.

    IRS markers must outweigh bank/state markers, because state notices and bank statements
    mention the IRS and federal forms too.
    """
    lex = _lexicon()
    norm = _normalise(text)

    def points(patterns: tuple[re.Pattern[str], ...]) -> int:
        return sum(1 for rx in patterns if rx.search(norm))

    irs = 2 * points(lex.irs_strong) + points(lex.irs_weak)
    return irs >= 3 and irs > 2 * points(lex.not_irs)
