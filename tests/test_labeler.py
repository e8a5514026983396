"""The label matcher: its per-text cache and its spaCy import without spaCy's command line."""

from __future__ import annotations

import subprocess
import sys

from extractors.base import labeler


def test_cached_hits_are_the_matchers_and_a_fresh_list() -> None:
    lab = labeler()
    text = "Amoumt due by June 3, 2024"  # an OCR slip the fuzzy pattern still matches
    first = lab.hits(text)
    assert first == lab._match(text) and first
    first.clear()  # a caller changing its list changes nothing in the cache
    assert lab.hits(text) == lab._match(text)


def test_spacy_command_line_still_imports_after_the_labeler() -> None:
    code = (
        "import sys; from extractors.base import labeler; labeler(); "
        "assert 'typer' not in sys.modules; "
        "import spacy.cli; from spacy.cli.info import info; assert callable(info); "
        "assert callable(spacy.info)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_label_whose_space_ocr_lost_still_matches_but_only_exactly() -> None:
    """OCR lost a narrow space in "Taxyear" and "Amount dueby"; each still matches its label. A
    joined word is matched exactly: "RECEIVED", two edits off "receivedby", is no deadline."""
    lab = labeler()
    assert any(h.role == "tax_year" and h.end == 7 for h in lab.hits("Taxyear 2020"))
    assert any(h.role == "amount_due" and h.weight == 1.0 for h in lab.hits("Amount dueby"))
    assert not any(h.role == "response_date" for h in lab.hits("RECEIVED"))
