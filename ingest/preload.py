"""Imported by the batch's forkserver: warm it once, so that every worker forks ready.

Loading spaCy, the label patterns, the notice catalog and the PDF and OCR libraries costs each
worker a second or more of CPU when it starts; done here once, the workers inherit it
(copy-on-write), start reading at once, and share those pages instead of holding a copy each.
Nothing here may stop the forkserver: should warming fail, each worker warms itself as before
and meets the same error there.
"""

from __future__ import annotations

import logging

try:
    from . import ocr, sources
    from .executors import warm

    warm()
    sources.preload_pdf()
    ocr.preload()
except Exception:  # noqa: BLE001 - an optimisation, never a failure
    logging.getLogger(__name__).debug("forkserver warm-up failed", exc_info=True)
