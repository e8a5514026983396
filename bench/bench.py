"""Throughput benchmark: irs-ingest against plain tesseract, side by side, on one corpus.

    python bench/bench.py [--letters 40] [--text-letters 200] [--memory-letters 500]
                          [--memory-formats mixed|scan|text] [--seed 9]

Prints a table and writes bench/results.json. It measures, on the same pages:
  reference   the pages rendered once to PNG, then the `tesseract` command line on each,
              single-threaded (OMP_THREAD_LIMIT=1), as many at a time as there are cores;
  batch       `irs-ingest batch` with default settings on the letters themselves;
  naive       what a first script does: one page at a time, tesseract's default threading
              (the `tesseract` command as pytesseract runs it);
  text        `irs-ingest batch` on text-layer PDFs (no OCR should run), start-up included:
              enough letters that the one-off start (about a second) does not dominate;
  file        `irs-ingest file` wall time, start-up included, on a one-page text-layer letter
              and on a one-page scan (the console script installed beside this Python, not a
              version manager's shim in front of it);
  memory      peak memory of one worker (with the tesseract it runs) and of the whole batch,
              on a folder of --memory-letters letters and on a tenth of it (500 and 50 by
              default; the generator's mix of formats, or only scans or text PDFs). Resident
              (RSS) sums count pages that forked workers share with their forkserver once per
              process; the proportional (PSS) total counts them once.
Speed is measured here, never in a unit test. Run it on an otherwise idle machine; the whole run
takes about 25 minutes on 2 cores (`--memory-letters 200` for a quicker one).
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
MEMORY_FORMATS: dict[str, list[str] | None] = {
    "mixed": None,  # the generator's own mix
    "scan": IMAGE_FORMATS,
    "text": ["pdf_text"],
}


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
    """Samples the memory of a process tree: the largest worker (a Python process without Python
    children, plus the tesseract it runs) and the whole tree, resident and proportional."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.worker = 0
        self.total = 0
        self.total_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _children(self) -> dict[int, list[int]]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):
                continue
        return children

    @staticmethod
    def _below(pid: int, children: dict[int, list[int]]) -> list[int]:
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += children.get(p, [])
        return out

    @staticmethod
    def _kb(path: str, key: str) -> int:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    @staticmethod
    def _is_python(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/comm").read_text().startswith("python")
        except OSError:
            return False

    def _run(self) -> None:
        while not self._stop.is_set():
            children = self._children()
            tree = self._below(self.pid, children)
            rss = {p: self._kb(f"/proc/{p}/status", "VmRSS:") for p in tree}
            pss = sum(self._kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in tree)
            for p in tree[1:]:
                below = self._below(p, children)
                if self._is_python(p) and not any(self._is_python(c) for c in below[1:]):
                    self.worker = max(self.worker, sum(rss.get(c, 0) for c in below))
            self.total = max(self.total, sum(rss.values()))
            self.total_pss = max(self.total_pss, pss)
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
    pages: dict[str, int] = {}  # a file cut into several letters has one record per letter
    with out.open(encoding="utf-8") as fh:
        for line in fh:
            src = json.loads(line)["source"]
            pages[src["sha256"]] = int(src["pages"] or 0)
    return seconds, sum(pages.values()), peak


def one_page(letters: Path) -> Path:
    """The first one-page letter of a folder of PDFs."""
    import pypdfium2

    for path in sorted(letters.iterdir()):
        doc = pypdfium2.PdfDocument(path)
        try:
            if len(doc) == 1:
                return path
        finally:
            doc.close()
    raise SystemExit(f"no one-page letter in {letters}")


def console_script() -> str:
    """`irs-ingest` as installed for this Python (a pyenv shim in front adds 0.1-0.3 s)."""
    beside = Path(sys.executable).with_name("irs-ingest")
    return str(beside) if beside.exists() else shutil.which("irs-ingest") or "irs-ingest"


def file_wall(path: Path, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.monotonic()
        subprocess.run(
            [console_script(), "file", str(path)],
            check=False,
            capture_output=True,
        )
        best = min(best, time.monotonic() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--letters", type=int, default=40, help="scanned letters to time")
    ap.add_argument("--text-letters", type=int, default=200, help="text-layer PDFs to time")
    ap.add_argument("--memory-letters", type=int, default=500, help="folder size for memory")
    ap.add_argument("--memory-formats", choices=sorted(MEMORY_FORMATS), default="mixed")
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
        one_text = one_page(texts / "letters")
        one_scan = work / "one_scan.png"
        shutil.copy(pngs[0], one_scan)

        mem = {}
        for n in (max(1, a.memory_letters // 10), a.memory_letters):
            folder = work / f"mem{n}"
            formats = MEMORY_FORMATS[a.memory_formats]
            generate(folder, n, a.seed + 2, formats=formats, progress=False)
            _, _, peak = run_batch(folder / "letters", work / f"mem{n}.jsonl")
            shutil.rmtree(folder, ignore_errors=True)
            mem[n] = {
                "worker_mb": round(peak.worker / 2**20),
                "total_mb": round(peak.total / 2**20),
                "total_pss_mb": round(peak.total_pss / 2**20),
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
            "memory_formats": a.memory_formats,
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
        (
            f"peak memory, {n} letters ({a.memory_formats}): worker / total RSS / total PSS (MB)",
            f"{m['worker_mb']} / {m['total_mb']} / {m['total_pss_mb']}",
        )
        for n, m in results["memory"].items()
    ]
    if len(results["memory"]) == 2:
        small, large = (results["memory"][n] for n in sorted(results["memory"]))
        growth = round(large["total_pss_mb"] / max(1, small["total_pss_mb"]), 2)
        rows.append(("  total PSS, large folder / small", growth))
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    a.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n(JSON: {a.json})")


if __name__ == "__main__":
    main()
