"""Linking a taxpayer's letters into one case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.cases import link_cases, write_cases


def rec(
    rid: str, code: str, date: str, stage: str, years: list[int], last4: str | None = "1234",
    name: str | None = "JOHN SMITH", verdict: str = "genuine",
) -> dict[str, Any]:
    return {
        "id": rid, "status": "ok", "source": {"path": f"{rid}.pdf"},
        "fields": {
            "notice_code": {"value": code}, "notice_date": {"value": date},
            "tax_years": {"value": years}, "taxpayer_id_last4": {"value": last4},
            "taxpayer_name": {"value": name},
        },
        "notice": {"stage": stage}, "scam": {"verdict": verdict},
        "timeline": [{"action": f"act on {code}"}],
    }


def test_collection_stream_is_one_case_at_its_latest_stage() -> None:
    cases = link_cases([
        rec("b", "CP501", "2024-03-01", "reminder", [2022]),
        rec("a", "CP14", "2024-01-20", "balance_due", [2022]),
        rec("c", "LT11", "2024-06-10", "final_notice_intent_to_levy", [2021, 2022]),
    ])
    (case,) = cases
    assert [x["notice_code"] for x in case["letters"]] == ["CP14", "CP501", "LT11"]
    assert case["stage"] == "final_notice_intent_to_levy" and case["latest"] == "c"
    assert case["tax_years"] == [2021, 2022]
    assert case["timeline"] == [{"action": "act on LT11"}]


def test_no_link_without_a_shared_year_or_the_same_taxpayer() -> None:
    cases = link_cases([
        rec("a", "CP14", "2024-01-20", "balance_due", [2022]),
        rec("b", "CP14", "2024-01-20", "balance_due", [2019]),  # other year
        rec("c", "CP14", "2024-01-20", "balance_due", [2022], last4="9999"),  # other taxpayer
        rec("d", "CP14", "2024-01-20", "balance_due", [2022], name="JANE SMITH"),
        rec("e", "CP14", "2024-01-20", "balance_due", [2022], last4=None),  # cannot tell
        rec("f", "CP14", "2024-01-20", "balance_due", [2022], verdict="scam"),
    ])
    assert len(cases) == 6


def test_name_matching_ignores_case_and_punctuation(tmp_path: Path) -> None:
    out = tmp_path / "cases.jsonl"
    lines = [rec("a", "CP14", "2024-01-20", "balance_due", [2022], name="John Smith,"),
             rec("b", "CP501", "2024-03-01", "reminder", [2022], name="JOHN  SMITH")]
    out.write_text("".join(json.dumps(r) + "\n" for r in lines))
    written = write_cases(out)
    cases = [json.loads(line) for line in written.read_text().splitlines()]
    assert len(cases) == 1 and len(cases[0]["letters"]) == 2
