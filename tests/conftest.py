"""Shared test helpers: the ../shared material, real texts, and rendering text as a scan."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SAMPLES = ROOT / "fixtures" / "samples"


def shared_dir(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent: the real material in ../shared is not here")
    return path


def realtext(name: str) -> tuple[dict[str, str], list[str]]:
    """Header facts ('# key: value') and the verbatim lines of a realtext file."""
    raw = (shared_dir("realtext") / name).read_text(encoding="utf-8").splitlines()
    header: dict[str, str] = {}
    body_at = 0
    for i, line in enumerate(raw):
        if line.startswith("# ----"):
            body_at = i + 1
            break
        if line.startswith("# ") and ":" in line:
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
    return header, raw[body_at:]


def png_bytes(image) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(300, 300))
    return buf.getvalue()
