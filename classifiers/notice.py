"""Notice type and stage: from the code, else from the title's wording, via the one catalog."""

from __future__ import annotations

from ingest.catalog import NoticeEntry, load_catalog
from ingest.record import Fields, Notice


def classify(text: str, fields: Fields) -> tuple[Notice, NoticeEntry | None]:
    catalog = load_catalog()
    code = fields.notice_code.value
    entry = catalog.get(code) if code else None
    if entry is None and code is None:
        entry = catalog.by_title(text)
    if entry is None:
        return Notice(code=code, known=False), None
    return (
        Notice(
            code=code or entry.code,
            title=entry.title,
            stage=entry.stage,
            known=True,
            audience=entry.audience,
        ),
        entry,
    )
