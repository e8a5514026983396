"""Value parsers for dates, money, phones and years as letters print them, OCR noise included.

Pure functions over one line of text, returning spans so evidence and boxes can be traced back.
OCR repairs happen only inside a token already shaped like the value (a digit context), where
the reading is certain: "S1,O75.2l" in a money slot is $1,075.21, but "SOLD" stays a word.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_WORD = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Digits as OCR may misread them inside a numeric token.
_D = r"[0-9OoIl|SB]"
_DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8"})

_SPELLED = re.compile(
    _MONTH_WORD
    + r"[.,-]?\s*(?P<day>"
    + _D
    + r"{1,2})\s*[,.;]{0,3}\s*(?P<year>(?:19|2[0O689])"
    + _D
    + r"{2})\b",
    re.IGNORECASE,
)
_DAY_FIRST = re.compile(
    r"\b(?P<day>\d{1,2})\s+" + _MONTH_WORD + r"\.?,?\s+(?P<year>(?:19|20)\d{2})\b", re.IGNORECASE
)
_NUMERIC = re.compile(
    r"(?<![\d/.-])(?P<m>" + _D + r"{1,2})\s?(?P<sep>[/.-])\s?(?P<d>" + _D + r"{1,2})\s?(?P=sep)\s?"
    r"(?P<y>(?:19|2[0689])?" + _D + r"{2})(?![\d/])"
)
_ISO = re.compile(r"\b(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})\b")
# A word a few letters off a month name, in a spelled date's shape: "Angust 1, 2016", "duly 24,
# 2018", and on a damaged scan "Sepienwver 24, 2019", "Crtouer 27, 2021".
_MISSPELLED = re.compile(
    r"(?<![A-Za-z])(?P<word>[A-Za-z]{4,11})\.?\s*(?P<day>\d{1,2})\s*[,;.]\s*(?P<year>(?:19|20)\d{2})\b"
)
# Spelled out here, not from the calendar module, whose names follow the process's locale.
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


def one_off(a: str, b: str) -> bool:
    """Same length, exactly one character different: one OCR misread apart."""
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


# First letters OCR reads for one another ("Crtouer" is October's "O" read as "C").
_LOOKALIKE_INITIALS = ("ocgqd", "jilt", "nmh", "s5", "fp", "a4")


@lru_cache(maxsize=4096)  # OCR prints the same misreads again and again; 12 edit distances each
def _month_misread(word: str) -> int | None:
    """The month a misread word names: one letter off (same length) if exactly one month fits;
    else the one month within half its letters' edits (inserted, dropped or misread) of the
    word, starting with the same letter or one OCR takes for it, while every other month is at
    least two edits further ("Monday", "Amount", "until" stay words: two months fit about as
    well). Only asked of a word in a spelled date's shape ("Xxxx 24, 2019")."""
    w = word.lower()
    if len(w) < 4:
        return None
    fits = [i for i, name in enumerate(_MONTH_NAMES, start=1) if one_off(name, w)]
    if fits:
        return fits[0] if len(fits) == 1 else None
    ranked = sorted((_edits(name, w), i) for i, name in enumerate(_MONTH_NAMES, start=1))
    (best, month), (second, _) = ranked[0], ranked[1]
    name = _MONTH_NAMES[month - 1]
    initial = w[0] == name[0] or any(w[0] in g and name[0] in g for g in _LOOKALIKE_INITIALS)
    return month if initial and best <= len(name) // 2 and second - best >= 2 else None


def _edits(a: str, b: str) -> int:
    """Levenshtein distance: the fewest letters inserted, dropped or changed to turn a into b."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@dataclass(frozen=True, slots=True)
class Span:
    value: object
    start: int
    end: int


def _digits(s: str) -> str:
    return s.translate(_DIGIT_FIX)


def _mkdate(y: str, m: int, d: str) -> dt.date | None:
    if len(y) == 4 and y[:2] in ("26", "28", "29"):
        # No year 26xx: a faded or faxed 0 read as 6, 8 or 9 ("June 24, 2620", "2925")
        y = "20" + y[2:]
        if d[-1:] in ("6", "8", "9") and int(_digits(d)) > 31:
            d = d[:-1] + "0"  # the same slip in the day: "August 36, 2623"
    year = int(_digits(y))
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return dt.date(year, m, int(_digits(d)))
    except ValueError:
        return None


def find_dates(text: str) -> list[Span]:
    """Every date in a line: spelled, day-first spelled, numeric US (m/d/y) and ISO."""
    found: list[Span] = []
    taken: list[tuple[int, int]] = []

    def add(date: dt.date | None, m: re.Match[str]) -> None:
        if date is None or any(s < m.end() and m.start() < e for s, e in taken):
            return
        found.append(Span(date, m.start(), m.end()))
        taken.append((m.start(), m.end()))

    for m in _SPELLED.finditer(text):
        add(_mkdate(m["year"], MONTHS[m["month"][:3].lower()], m["day"]), m)
    for m in _DAY_FIRST.finditer(text):
        add(_mkdate(m["year"], MONTHS[m["month"][:3].lower()], m["day"]), m)
    for m in _ISO.finditer(text):
        add(_mkdate(m["y"], int(m["m"]), m["d"]), m)
    for m in _MISSPELLED.finditer(text):
        month = _month_misread(m["word"])
        if month is not None:
            add(_mkdate(m["year"], month, m["day"]), m)
    for m in _NUMERIC.finditer(text):
        if m["sep"] == "." and len(m["y"]) == 2:
            continue  # "1.075.21" is money, not a date
        month = int(_digits(m["m"]))
        if month > 12 and m["m"][0] in "689" and m["m"][1:] not in ("", "0"):
            month = int(_digits(m["m"][1:]))  # a faded or faxed 0 again: "62/25/2025"
        if 1 <= month <= 12:
            add(_mkdate(m["y"], month, m["d"]), m)
    found.sort(key=lambda s: s.start)
    return found


# OCR breaks amounts at their separators ("$11, 031. 53"), so a separator may carry one space.
_MONEY = re.compile(
    r"(?P<neg>[-(]\s?)?(?P<cur>[$S§]\s?)?(?P<num>\d{1,3}(?:(?:[,.']\s?|\s)\d{3})+|\d+)"
    r"(?:(?P<dec>[.,])(?P<gap>\s?)(?P<cents>\d{2}))?(?![\d%])(?P<close>\))?"
)


_YEARLIKE = re.compile(r"^(?:19|20)\d{2}$")
_SPLIT_LEAD = re.compile(
    r"\$\s?(?P<a>\d{1,2}) (?P<b>\d{1,2}),(?P<rest>\d{3}(?:,\d{3})*)(?:\.(?P<cents>\d{2}))?(?![\d,])"
)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    negative: bool
    has_symbol: bool
    has_cents: bool


def find_money(text: str, *, bare: bool = False) -> list[Span]:
    """Amounts with a currency sign or cents: '$1,075.21', 'S9,533', '(3,328.00)', '-3,328.00'.

    A bare integer with neither sign nor cents is not money (years, zip codes, form numbers),
    unless the caller already knows the place holds an amount (`bare`, e.g. "Amount due: 485").
    OCR's '$' read as 'S' or '5' counts as a sign only when the rest is a well-formed amount.
    """
    out: list[Span] = []
    for m in _SPLIT_LEAD.finditer(text):
        if len(m["a"]) + len(m["b"]) <= 3:  # "$1 2,628.90": one amount, a space OCR put in
            digits = m["a"] + m["b"] + m["rest"].replace(",", "")
            amount = Decimal(digits + ("." + m["cents"] if m["cents"] else ""))
            out.append(Span(Money(amount, False, True, bool(m["cents"])), m.start(), m.end()))
    for m in _MONEY.finditer(text):
        if any(s.start <= m.start() < s.end for s in out):
            continue
        cur, num, cents = m["cur"], m["num"], m["cents"]
        if not cur and not cents and not (bare and not _YEARLIKE.match(num) and len(num) <= 9):
            continue
        if m.start("num") > 0 and text[m.start("num") - 1].isalnum() and not cur:
            continue
        if cur and cur.strip() in ("S", "§"):
            # Only a thousands-grouped or cents-bearing number after it makes 'S' a '$'. A '$'
            # read as '5' is not repaired: "5559.87" has a literal reading that may be right.
            before = text[m.start() - 1] if m.start() > 0 else " "
            if before.isalnum() or not (cents or "," in num):
                continue
        groups = re.split(r"[,.' ]\s?|\s", num)
        if len(groups) > 1 and any(len(g) != 3 for g in groups[1:]):
            continue
        if cents and (m["dec"] == "," or m["gap"]) and not (cur or len(groups) > 1):
            continue  # "items 12, 14" is a list; only a real amount's shape makes ", 14" cents
        digits = "".join(groups)
        try:
            amount = Decimal(digits + ("." + cents if cents else ""))
        except InvalidOperation:
            continue
        negative = bool(m["neg"]) and (m["neg"].strip() == "-" or bool(m["close"]))
        start = m.start() if negative or cur else m.start("num")
        out.append(Span(Money(amount, negative, bool(cur), bool(cents)), start, m.end()))
    return sorted(out, key=lambda s: s.start)


# A run shaped like a phone number, in which OCR's letter O can only be a zero.
_PHONEISH = re.compile(r"(?<![A-Za-z])[\dOo]{1,4}(?:[-. ()]{1,2}[\dOo]{3,4}){2}(?![A-Za-z])")
_PHONE = re.compile(
    r"(?<![\d-])(?:1\s?[-. ]?\s?)?\(?(?P<a>[2-9]\d{2})\)?\s?[-. ]?\s?(?P<b>\d{3})\s?[-. ]\s?"
    r"(?P<c>\d{4})(?!\d)"
)


def find_phones(text: str) -> list[Span]:
    """North American numbers, formatted NNN-NNN-NNNN (no leading 1)."""
    fixed = _PHONEISH.sub(lambda m: m[0].replace("O", "0").replace("o", "0"), text)
    return [Span(f"{m['a']}-{m['b']}-{m['c']}", m.start(), m.end()) for m in _PHONE.finditer(fixed)]


_YEAR = re.compile(r"(?<![\d/.$,-])(?P<y>(?:19|20)\d{2})(?!\d|[,.]\d)")


def find_years(text: str) -> list[Span]:
    return [Span(int(m["y"]), m.start(), m.end()) for m in _YEAR.finditer(text)]
