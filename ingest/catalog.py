"""The notice catalog: one data file (ingest/data/notices.toml) behind typed, cross-checked models.

Extractors, classifiers and the timeline all read notice facts from here, so a fact is fixed in
one place. Everything is validated when the file is loaded: a broken cross-reference is a
packaging bug and should stop the program at start-up, not surface as a wrong deadline later.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from functools import cached_property, lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingest.errors import IngestError
from ingest.stages import STAGE_NAMES

Audience = Literal["individual", "business", "both"]
ResponsePurpose = Literal[
    "pay",
    "respond",
    "contact",
    "request_hearing",
    "petition",
    "file_return",
    "verify_identity",
    "none",
]
Right = Literal[
    "cdp_hearing",
    "equivalent_hearing",
    "cap",
    "tax_court",
    "appeals",
    "abatement_request",
    "levy_release",
]

RIGHT_LABELS: dict[str, str] = {
    "cdp_hearing": "Collection Due Process hearing with the Independent Office of Appeals",
    "equivalent_hearing": "equivalent hearing (late CDP request within one year; no Tax Court)",
    "cap": "Collection Appeals Program",
    "tax_court": "petition the U.S. Tax Court",
    "appeals": "protest or conference with the Independent Office of Appeals",
    "abatement_request": "ask for the math-error change to be reversed (IRC 6213(b))",
    "levy_release": "ask for the levy to be released (e.g. economic hardship, IRC 6343)",
}

_PHONE_RE = re.compile(r"^\d{3}-\d{3}-\d{4}$")
_KEYPAD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "22233344455566677778889999",
)


class CatalogError(IngestError):
    """The shipped catalog file is missing or inconsistent: a packaging bug, not bad input."""

    code = "catalog_invalid"
    hint = "Fix ingest/data/notices.toml; 'python -m pytest tests/test_catalog.py' shows what."


# ---------------------------------------------------------------------------------------------
# Normalisation: the same function builds the index and reads the query, so the two can't drift.
# ---------------------------------------------------------------------------------------------

# "(Rev. 7-2019)", "Rev 01-2018" and anything printed after it is a form revision, not the code.
_REVISION = re.compile(r"\(?\s*\bREV\b.*$")
# Office/version suffixes printed after a letter number: Letter 1058(DO), Form 668-A(ICS).
_OFFICE_SUFFIX = re.compile(r"\((?:DO|ICS|ACS|CG|SP|C)\)")
_LEADING_WORDS = re.compile(r"^(?:IRS)?(?:NOTICE|LETTER|LTR|FORM)?")
_L_PREFIX = re.compile(r"^L(?=\d)")  # "L1058" is shorthand for Letter 1058; "LT11" is untouched.


def code_key(raw: str) -> str:
    """Reduce a printed notice code to a comparison key ("Notice CP 14" -> "CP14").

    Letters keep only their number ("LTR 1058" -> "1058"), because "Letter", "LTR", "L" and a
    bare number all name the same letter in print.
    """
    s = unicodedata.normalize("NFKC", raw).upper()
    s = _REVISION.sub("", s)
    s = _OFFICE_SUFFIX.sub("", s)
    s = re.sub(r"[^A-Z0-9]", "", s)
    s = _LEADING_WORDS.sub("", s)
    return _L_PREFIX.sub("", s)


def normalize_text(text: str) -> str:
    """Lowercase words separated by single spaces, for phrase matching that survives OCR layout.

    Apostrophes are dropped (so "we're" and "we’re" agree) and every other non-alphanumeric run
    becomes one space, so punctuation, dashes and line breaks never decide a match.
    """
    s = unicodedata.normalize("NFKC", text).lower()
    s = re.sub(r"['\u2018\u2019\u02bc`]", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s)
    return s.strip()


def phone_digits(number: str) -> str | None:
    """Ten-digit form of a US phone number, or None when it isn't one.

    Letters are read as keypad digits only when the input has too few digits to be a number on
    its own ("1-800-TAX-FORM"), so a label such as "Phone 800-829-1040" still parses.
    """
    digits = re.sub(r"\D", "", number)
    if len(digits) < 10:
        digits = re.sub(r"\D", "", number.upper().translate(_KEYPAD))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class NoticeEntry(_Frozen):
    """One IRS notice or letter; field meanings are documented at the top of notices.toml."""

    code: str
    aliases: tuple[str, ...] = ()
    title: str
    audience: Audience
    stage: str
    response_days: int | None = Field(default=None, gt=0)
    response_purpose: ResponsePurpose
    dispute_days: int | None = Field(default=None, gt=0)
    rights: tuple[Right, ...] = ()
    next_notice: str | None = None
    next_lag_days: int | None = Field(default=None, gt=0)
    next_lag_source: str | None = None
    certified: bool
    requests_payment: bool
    title_phrases: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, v: str) -> str:
        if v not in STAGE_NAMES:
            raise ValueError(f"stage {v!r} is not in ingest.stages.STAGES")
        return v

    @field_validator("title_phrases")
    @classmethod
    def _lowercase_phrases(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in v:
            if phrase != phrase.lower() or len(normalize_text(phrase).split()) < 3:
                raise ValueError(f"title phrase {phrase!r} must be lowercase and 3+ words")
        return v

    @model_validator(mode="after")
    def _lag_needs_next(self) -> NoticeEntry:
        if (self.next_lag_days or self.next_lag_source) and not self.next_notice:
            raise ValueError(f"{self.code}: next_lag_* given without next_notice")
        if self.next_notice == self.code:
            raise ValueError(f"{self.code}: next_notice points to itself")
        return self


class Pca(_Frozen):
    """A private collection agency the IRS has authorised; genuine PCA contact is not a scam."""

    name: str
    aliases: tuple[str, ...] = ()
    phone: str = Field(pattern=_PHONE_RE.pattern)
    address: str
    active_from: dt.date
    active_to: dt.date | None = None
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    def active_on(self, day: dt.date) -> bool:
        """Whether the agency was authorised on `day` (a letter's date), since the list changed."""
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class IrsPhone(_Frozen):
    """A legitimate government number printed on, or tied to, IRS notices."""

    number: str = Field(pattern=_PHONE_RE.pattern)
    use: str
    sources: tuple[str, ...] = Field(min_length=1)
    note: str | None = None


class Catalog(_Frozen):
    """All notices, agencies and phone numbers, with lookups built once at load time."""

    schema_version: int
    secondary_sources: frozenset[str] = frozenset()
    notices: tuple[NoticeEntry, ...] = Field(alias="notice", min_length=1)
    pcas: tuple[Pca, ...] = Field(alias="pca", default=())
    irs_phones: tuple[IrsPhone, ...] = Field(alias="irs_phone", default=())
    sources: dict[str, str]

    @model_validator(mode="after")
    def _cross_check(self) -> Catalog:
        self.check()
        return self

    def check(self) -> None:
        """Raise ValueError on any broken cross-reference; run automatically at load."""
        problems: list[str] = []
        seen_codes: set[str] = set()
        for e in self.notices:
            if e.code in seen_codes:
                problems.append(f"duplicate code {e.code}")
            seen_codes.add(e.code)
        for e in self.notices:
            if e.next_notice and e.next_notice not in seen_codes:
                problems.append(f"{e.code}: next_notice {e.next_notice} is not in the catalog")
            keys = [*e.sources, *([e.next_lag_source] if e.next_lag_source else [])]
            problems += [
                f"{e.code}: unknown source key {k!r}" for k in keys if k not in self.sources
            ]
        for item in (*self.pcas, *self.irs_phones):
            label = getattr(item, "name", None) or getattr(item, "number", "?")
            problems += [
                f"{label}: unknown source key {k!r}" for k in item.sources if k not in self.sources
            ]
        problems += [
            f"secondary source {k!r} has no URL"
            for k in self.secondary_sources
            if k not in self.sources
        ]
        problems += [
            f"source {k!r}: {v!r} is not a URL"
            for k, v in self.sources.items()
            if not v.startswith(("http://", "https://"))
        ]

        raw_owner: dict[str, str] = {}
        for e in self.notices:
            for alias in e.aliases:
                other = raw_owner.setdefault(alias, e.code)
                if other != e.code or alias in seen_codes:
                    problems.append(f"alias {alias!r} is used by {other} and {e.code}")
        for key, owners in self._keys_with_owners().items():
            if len(owners) > 1 or not key:
                problems.append(f"printed forms of {sorted(owners)} all read as {key!r}")

        phrase_owner: dict[str, str] = {}
        for e in self.notices:
            for phrase in e.title_phrases:
                other = phrase_owner.setdefault(normalize_text(phrase), e.code)
                if other != e.code:
                    problems.append(f"title phrase {phrase!r} is used by {other} and {e.code}")

        numbers = [p.number for p in self.irs_phones]
        if len(set(numbers)) != len(numbers):
            problems.append("duplicate irs_phone number")
        if problems:
            raise ValueError("notice catalog is inconsistent:\n  " + "\n  ".join(problems))

    def _keys_with_owners(self) -> dict[str, set[str]]:
        owners: dict[str, set[str]] = {}
        for e in self.notices:
            for printed in (e.code, *e.aliases):
                owners.setdefault(code_key(printed), set()).add(e.code)
        return owners

    # -- lookups (cached: the model is frozen, so they never go stale) --------------------------

    @cached_property
    def _by_code(self) -> dict[str, NoticeEntry]:
        return {e.code: e for e in self.notices}

    @cached_property
    def _by_key(self) -> dict[str, str]:
        return {k: next(iter(v)) for k, v in self._keys_with_owners().items()}

    @cached_property
    def _phrases(self) -> list[tuple[str, NoticeEntry]]:
        pairs = [(normalize_text(p), e) for e in self.notices for p in e.title_phrases]
        return sorted(pairs, key=lambda pair: -len(pair[0]))

    @cached_property
    def _phones(self) -> dict[str, IrsPhone]:
        return {phone_digits(p.number) or p.number: p for p in self.irs_phones}

    @cached_property
    def codes(self) -> frozenset[str]:
        """Every canonical code in the catalog."""
        return frozenset(self._by_code)

    def get(self, code: str) -> NoticeEntry | None:
        """Entry for an exact canonical code; use canonical() first for printed forms."""
        return self._by_code.get(code)

    def canonical(self, raw: str) -> str | None:
        """Canonical code for a printed form ("cp 14", "LTR1058", "5071C"), or None if unknown.

        Unknown codes stay unknown (no nearest-match guessing): a scam's invented "CP9999" must
        not borrow a real notice's deadlines.
        """
        return self._by_key.get(code_key(raw))

    def lookup(self, raw: str) -> NoticeEntry | None:
        """Entry for a printed form; canonical() followed by get()."""
        code = self.canonical(raw)
        return self._by_code[code] if code else None

    def by_title(self, text: str) -> NoticeEntry | None:
        """Entry whose title phrase occurs in a letter's text; the longest phrase wins.

        Longest wins because reminders repeat earlier wording ("second reminder: you have unpaid
        taxes for" contains CP501's "you have unpaid taxes for").
        """
        haystack = f" {normalize_text(text)} "
        for phrase, entry in self._phrases:
            if f" {phrase} " in haystack:
                return entry
        return None

    def irs_phone(self, number: str) -> IrsPhone | None:
        """The catalog's record for a legitimate IRS/Treasury number, in any print format."""
        digits = phone_digits(number)
        return self._phones.get(digits) if digits else None

    def is_irs_phone(self, number: str) -> bool:
        """Whether the number is one the IRS publishes (PCA numbers are not IRS numbers)."""
        return self.irs_phone(number) is not None

    def pca_by_name(self, text: str) -> Pca | None:
        """Authorised collection agency named in `text` (whole words), longest name first."""
        haystack = f" {normalize_text(text)} "
        names = sorted(
            ((normalize_text(n), p) for p in self.pcas for n in (p.name, *p.aliases)),
            key=lambda pair: -len(pair[0]),
        )
        for name, pca in names:
            if f" {name} " in haystack:
                return pca
        return None

    def is_secondary(self, source_key: str) -> bool:
        """Whether a source is a practitioner/vendor page ("likely, verify") rather than IRS."""
        return source_key in self.secondary_sources


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Load and validate the packaged catalog once per process."""
    resource = resources.files("ingest") / "data" / "notices.toml"
    try:
        data = tomllib.loads(resource.read_text(encoding="utf-8"))
        return Catalog.model_validate(data)
    except FileNotFoundError as exc:
        raise CatalogError(f"notice catalog not found: {resource}") from exc
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise CatalogError(f"notice catalog is invalid: {exc}") from exc
