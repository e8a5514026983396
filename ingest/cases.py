"""Several letters, one case: link a taxpayer's letters about the same tax years.

A mailroom receives a CP14, then a CP501, then an LT11 for the same debt. Letters are linked when
they name the same taxpayer (last four digits of the TIN and the same name) and share a tax year;
the case shows the stage and the timeline of its latest letter. A letter that cannot be tied to a
taxpayer safely (no last four, no name), a scam and a failed read stay cases of their own, so a
link is never guessed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .stages import STAGE_NAMES, stage_rank


def _taxpayer_key(rec: dict[str, Any]) -> tuple[str, str] | None:
    f = rec.get("fields", {})
    last4 = (f.get("taxpayer_id_last4") or {}).get("value")
    name = (f.get("taxpayer_name") or {}).get("value")
    if not last4 or not name or rec.get("status") == "failed":
        return None
    if (rec.get("scam") or {}).get("verdict") == "scam":
        return None
    return last4, re.sub(r"[^A-Z0-9]+", " ", name.upper()).strip()


def _years(rec: dict[str, Any]) -> set[int]:
    return set((rec.get("fields", {}).get("tax_years") or {}).get("value") or [])


def _order(rec: dict[str, Any]) -> tuple[str, int]:
    """Latest letter: the later notice date, then the further stage."""
    date = (rec.get("fields", {}).get("notice_date") or {}).get("value") or ""
    stage = (rec.get("notice") or {}).get("stage")
    return date, stage_rank(stage) if stage in STAGE_NAMES else -1


def link_cases(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    recs = list(records)
    parent = list(range(len(recs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_taxpayer: dict[tuple[str, str], list[int]] = {}
    for i, rec in enumerate(recs):
        key = _taxpayer_key(rec)
        if key is not None:
            by_taxpayer.setdefault(key, []).append(i)
    for members in by_taxpayer.values():
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if _years(recs[i]) & _years(recs[j]):
                    parent[find(j)] = find(i)

    groups: dict[int, list[int]] = {}
    for i in range(len(recs)):
        groups.setdefault(find(i), []).append(i)
    cases = [_case([recs[i] for i in members]) for members in groups.values()]
    cases.sort(key=lambda c: c["case_id"])
    return cases


def _case(letters: list[dict[str, Any]]) -> dict[str, Any]:
    letters = sorted(letters, key=_order)
    latest = letters[-1]
    key = _taxpayer_key(latest)
    years = sorted(set().union(*(_years(r) for r in letters)))
    ident = json.dumps([key, years] if key else latest.get("id"), sort_keys=True)
    f = latest.get("fields", {})
    return {
        "case_id": hashlib.sha256(ident.encode()).hexdigest()[:16],
        "taxpayer": {
            "name": (f.get("taxpayer_name") or {}).get("value"),
            "taxpayer_id_last4": (f.get("taxpayer_id_last4") or {}).get("value"),
        },
        "tax_years": years,
        "stage": (latest.get("notice") or {}).get("stage"),
        "latest": latest.get("id"),
        "letters": [
            {
                "id": r.get("id"),
                "path": (r.get("source") or {}).get("path"),
                "notice_code": (r.get("fields", {}).get("notice_code") or {}).get("value"),
                "notice_date": (r.get("fields", {}).get("notice_date") or {}).get("value"),
                "stage": (r.get("notice") or {}).get("stage"),
            }
            for r in letters
        ],
        "timeline": latest.get("timeline") or [],
    }


def cases_path(records_jsonl: Path) -> Path:
    return records_jsonl.with_name(records_jsonl.name + ".cases.jsonl")


def write_cases(records_jsonl: Path, out: Path | None = None) -> Path:
    """Link the records in a JSONL file into OUT (default: beside it, `.cases.jsonl`).

    Only what linking reads is kept of each record, and a case's timeline is read back from
    its latest letter's line when the case is written: memory grows by a few hundred bytes per
    letter, not by whole records (tens of kilobytes each as Python objects).
    """
    out = out or cases_path(records_jsonl)
    with records_jsonl.open("rb") as fh:
        records = []
        offset = 0
        for line in fh:
            if line.strip():
                records.append(_slim(json.loads(line), offset))
            offset += len(line)
        tmp = out.with_name(out.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as dst:
            for case in link_cases(records):
                if isinstance(case["timeline"], _TimelineAt):
                    fh.seek(case["timeline"].offset)
                    case["timeline"] = json.loads(fh.readline()).get("timeline")
                dst.write(json.dumps(case, ensure_ascii=False) + "\n")
            dst.flush()
            os.fsync(dst.fileno())
    tmp.replace(out)  # readers never see a half-written file
    return out


@dataclass(frozen=True, slots=True)
class _TimelineAt:
    """A record's timeline, left in OUT at this byte offset until its case is written."""

    offset: int


_CASE_FIELDS = ("taxpayer_id_last4", "taxpayer_name", "tax_years", "notice_date", "notice_code")


def _slim(rec: dict[str, Any], offset: int) -> dict[str, Any]:
    """The parts of a record that linking and `_case` read, each read the same way."""
    fields = rec.get("fields", {})
    return {
        "id": rec.get("id"),
        "status": rec.get("status"),
        "source": {"path": (rec.get("source") or {}).get("path")},
        "fields": {k: {"value": (fields.get(k) or {}).get("value")} for k in _CASE_FIELDS},
        "notice": {"stage": (rec.get("notice") or {}).get("stage")},
        "scam": {"verdict": (rec.get("scam") or {}).get("verdict")},
        "timeline": _TimelineAt(offset) if rec.get("timeline") else rec.get("timeline"),
    }
