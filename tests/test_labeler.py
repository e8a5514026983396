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
