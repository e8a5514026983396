"""Throughput benchmark: irs-ingest against plain tesseract, side by side, on one corpus.

    python bench/bench.py [--letters 40] [--text-letters 40] [--memory-letters 500] [--seed 9]

Prints a table and writes bench/results.json. It measures, on the same pages:
  reference   the pages rendered once to PNG, then the `tesseract` command line on each,
              single-threaded (OMP_THREAD_LIMIT=1), as many at a time as there are cores;
  batch       `irs-ingest batch` with default settings on the letters themselves;
  naive       what a first script does: one page at a time, tesseract's default threading
              (the `tesseract` command as pytesseract runs it);
  text        `irs-ingest batch` on text-layer PDFs (no OCR should run);
  file        `irs-ingest file` wall time, start-up included, on a one-page text-layer letter
              and on a one-page scan;
  memory      peak resident memory of one worker and of the whole batch, on a folder of
              --memory-letters letters and on a tenth of it.
Speed is measured here, never in a unit test. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fixtures.generator import generate  # noqa: E402
from ingest import sources  # noqa: E402

CORES = os.cpu_count() or 1
IMAGE_FORMATS = ["pdf_image", "png", "jpeg", "tiff"]


def render_pages(letters: Path, out: Path) -> list[Path]:
    """Every page of every letter as a PNG, as the pipeline would hand it to tesseract."""
    pngs: list[Path] = []
    for path in sorted(letters.iterdir()):
        src = sources.load(path.read_bytes())
        for page in src.pages:
            if page.image is None:
                continue
            png = out / f"{path.stem}_{page.number}.png"
            page.image.save(png)
            pngs.append(png)
    return pngs


def tesseract(png: Path, threads: int | None) -> None:
    env = dict(os.environ)
    env.pop("OMP_THREAD_LIMIT", None)
    if threads is not None:
        env["OMP_THREAD_LIMIT"] = str(threads)
    subprocess.run(
        ["tesseract", str(png), "-", "--psm", "3", "tsv"],
        check=True,
        capture_output=True,
        env=env,
    )


def reference(pngs: list[Path]) -> float:
    start = time.monotonic()
    with ThreadPoolExecutor(CORES) as pool:
        list(pool.map(lambda p: tesseract(p, 1), pngs))
    return len(pngs) / (time.monotonic() - start)


def naive(pngs: list[Path]) -> float:
    start = time.monotonic()
    for png in pngs:
        tesseract(png, None)
    return len(pngs) / (time.monotonic() - start)


class PeakRss:
    """Samples the resident memory of a process tree: the largest worker and the sum."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.worker = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):
                continue
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += children.get(p, [])
        return out

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = {p: self._rss(p) for p in self._tree()}
            workers = [v for p, v in rss.items() if p != self.pid]
            self.worker = max([self.worker, *workers])
            self.total = max(self.total, sum(rss.values()))
            time.sleep(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_batch(folder: Path, out: Path) -> tuple[float, int, PeakRss]:
    """(seconds, pages, peak memory) of `irs-ingest batch` with default settings."""
    if out.exists():
        out.unlink()
    for extra in out.parent.glob(out.name + ".*"):
        extra.unlink()
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "batch", str(folder), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    peak = PeakRss(proc.pid)
    proc.wait()
    peak.stop()
    seconds = time.monotonic() - start
    pages = sum(json.loads(line)["source"]["pages"] for line in out.read_text().splitlines())
    return seconds, pages, peak


def file_wall(path: Path, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.monotonic()
        subprocess.run(
            [shutil.which("irs-ingest") or "irs-ingest", "file", str(path)],
            check=False,
            capture_output=True,
        )
        best = min(best, time.monotonic() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--letters", type=int, default=40, help="scanned letters to time")
    ap.add_argument("--text-letters", type=int, default=40, help="text-layer PDFs to time")
    ap.add_argument("--memory-letters", type=int, default=500, help="folder size for memory")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="irs-bench-"))
    try:
        scans = work / "scans"
        generate(scans, a.letters, a.seed, formats=IMAGE_FORMATS, progress=False)
        texts = work / "texts"
        generate(texts, a.text_letters, a.seed + 1, formats=["pdf_text"], progress=False)
        pngs = render_pages(scans / "letters", work)

        ref = reference(pngs)
        seconds, pages, _ = run_batch(scans / "letters", work / "scans.jsonl")
        ours = pages / seconds
        nai = naive(pngs)
        t_seconds, t_pages, _ = run_batch(texts / "letters", work / "texts.jsonl")
        one_text = next(p for p in sorted((texts / "letters").iterdir()))
        one_scan = work / "one_scan.png"
        shutil.copy(pngs[0], one_scan)

        mem = {}
        for n in (max(1, a.memory_letters // 10), a.memory_letters):
            folder = work / f"mem{n}"
            generate(folder, n, a.seed + 2, formats=IMAGE_FORMATS, progress=False)
            _, _, peak = run_batch(folder / "letters", work / f"mem{n}.jsonl")
            mem[n] = {
                "worker_mb": round(peak.worker / 2**20),
                "total_mb": round(peak.total / 2**20),
            }

        results = {
            "cores": CORES,
            "pages": len(pngs),
            "reference_pages_per_s": round(ref, 3),
            "batch_pages_per_s": round(ours, 3),
            "batch_vs_reference": round(ours / ref, 3),
            "naive_pages_per_s": round(nai, 3),
            "batch_vs_naive": round(ours / nai, 2),
            "text_layer_pages_per_s": round(t_pages / t_seconds, 2),
            "text_layer_pages_per_s_per_core": round(t_pages / t_seconds / CORES, 2),
            "file_text_layer_s": round(file_wall(one_text), 2),
            "file_scan_s": round(file_wall(one_scan), 2),
            "memory": mem,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("cores", results["cores"]),
        ("scanned pages", results["pages"]),
        ("reference: tesseract CLI, 1 thread x cores (pages/s)", results["reference_pages_per_s"]),
        ("irs-ingest batch (pages/s)", results["batch_pages_per_s"]),
        ("  ratio to reference", results["batch_vs_reference"]),
        ("naive: one page at a time, default threads (pages/s)", results["naive_pages_per_s"]),
        ("  irs-ingest batch / naive", results["batch_vs_naive"]),
        ("text-layer PDFs (pages/s)", results["text_layer_pages_per_s"]),
        ("  per core", results["text_layer_pages_per_s_per_core"]),
        ("irs-ingest file, 1-page text-layer letter (s)", results["file_text_layer_s"]),
        ("irs-ingest file, 1-page scan (s)", results["file_scan_s"]),
    ]
    rows += [
        (f"peak memory, {n} letters: worker / total (MB)", f"{m['worker_mb']} / {m['total_mb']}")
        for n, m in results["memory"].items()
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    a.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n(JSON: {a.json})")


if __name__ == "__main__":
    main()
