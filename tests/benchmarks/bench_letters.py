"""Guidance letters for a whole programme: the 808 demo victims' cases, and 10,000.

    .venv/bin/python -m tests.benchmarks.bench_letters [--sizes 808 10000]

Each size runs in its own process (so its peak memory is its own) and measures:

- the service: ``produce_batch`` for every case (reading the cases, letter codes,
  layout with kinsoku and font checks, QR codes, drawing, chunked PDF, SHA-256,
  recording every letter with its audit event), written to one PDF;
- the baseline, in the same process: plain ReportLab drawing the same pages with
  the same fonts (every text run, rule, box and QR code at its place, the page
  footers included; the layout is taken as known, so it is not timed), saved to
  one PDF.

Targets: within 1.5x the baseline; 10,000 letters in bounded memory (the engine
writes chunks of ``chunk_letters`` and concatenates them).

``--fallback`` forces the public-API path every batch takes when a library's internals
fail the shortcuts' self-checks (plain canvas drawing, qrcode's own make, pypdf joining):
what an upgrade of ReportLab or qrcode would cost until the shortcuts are brought along.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas
from sqlmodel import select

from app.core.clock import today_jst
from app.domain.roles import SYSTEM_ACTOR
from app.letters import LetterError, LetterKind, LetterRenderer
from app.letters.layout import PAGE_H, PAGE_W, LineOp, Op, QROp, RectOp, TextOp
from app.services import letters as service
from app.services.context import AppContext
from app.storage import migrate
from app.storage.db import Database
from app.storage.models import Case
from tests.benchmarks.common import demo_database


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _draw_plain(canvas: Canvas, op: Op) -> None:
    """One operation the plain way: a drawString per text run, a line, a rectangle, and
    the QR code as a path of one rectangle per run of dark modules."""
    if isinstance(op, TextOp):
        x = op.x
        for run in op.runs:
            canvas.setFont(run.font, op.size)
            canvas.drawString(x, op.y, run.text)
            x += canvas.stringWidth(run.text, run.font, op.size)
    elif isinstance(op, LineOp):
        canvas.line(op.x1, op.y1, op.x2, op.y2)
    elif isinstance(op, RectOp):
        canvas.rect(op.x, op.y, op.w, op.h)
    elif isinstance(op, QROp):
        module = op.size / len(op.rows)
        path = canvas.beginPath()
        for r, row in enumerate(op.rows):
            start = None
            for col, dark in enumerate((*row, False)):
                if dark and start is None:
                    start = col
                elif not dark and start is not None:
                    path.rect(op.x + start * module, op.y + op.size - (r + 1) * module,
                              (col - start) * module, module)
                    start = None
        canvas.drawPath(path, stroke=0, fill=1)


def _baseline(ctx: AppContext, out: Path) -> tuple[float, int, float]:
    """Plain ReportLab: the same text runs (the page footers too), rules, boxes and QR
    codes, one drawString per run."""
    renderer = LetterRenderer(service.get_letter_settings(ctx))
    canvas = Canvas(str(out), pagesize=(PAGE_W, PAGE_H), pageCompression=1)
    drawing, layout, pages = 0.0, 0.0, 0
    with ctx.db.read() as session:
        cases = session.exec(select(Case).order_by(Case.id)).all()
        request = service.BatchRequest(LetterKind.GUIDANCE)
        issue = today_jst(ctx.clock)
        for case in cases:
            letter = service.build_letter(session, case, request, "BENC-H000", issue)
            started = time.perf_counter()
            try:
                composed = renderer.compose(letter)  # not in the baseline: layout is given
            except LetterError:  # a refused letter is drawn by neither
                continue
            feet = [renderer.footer(letter, n, len(composed)) for n in range(1, len(composed) + 1)]
            layout += time.perf_counter() - started
            started = time.perf_counter()
            for ops, foot in zip(composed, feet, strict=True):
                for op in (*ops, *foot):
                    _draw_plain(canvas, op)
                canvas.showPage()
                pages += 1
            drawing += time.perf_counter() - started
    started = time.perf_counter()
    canvas.save()
    return drawing + time.perf_counter() - started, pages, layout


def _force_fallback() -> None:
    """Every renderer of this process goes without the shortcuts, as after failed checks."""
    from app.letters import compose
    from app.letters.shortcuts import PLAIN

    compose.check = lambda book=None: PLAIN


def run_one(victims: int, fallback: bool = False) -> dict:
    if fallback:
        _force_fallback()
    path = demo_database(victims)
    work = Path(tempfile.mkdtemp(prefix="bench-letters-"))
    db_copy = work / "bench.sqlite3"
    db_copy.write_bytes(path.read_bytes())  # the batch records letters: keep the cache clean
    ctx = AppContext(Database(str(db_copy)))
    migrate.upgrade(ctx.db)  # a cached database may predate later revisions
    with ctx.db.read() as session:
        ids = tuple(session.exec(select(Case.id).order_by(Case.id)).all())
    before = _peak_mb()
    started = time.perf_counter()
    summary = service.produce_batch(ctx, SYSTEM_ACTOR,
                                    service.BatchRequest(LetterKind.GUIDANCE, case_ids=ids),
                                    work / "guidance.pdf")
    elapsed = time.perf_counter() - started
    peak = _peak_mb()
    baseline, base_pages, layout = _baseline(ctx, work / "baseline.pdf")
    result = {
        "victims": victims, "letters": len(summary.letters), "refused": len(summary.refused),
        "pages": summary.pages, "seconds": elapsed, "baseline_seconds": baseline,
        "baseline_pages": base_pages, "layout_seconds": layout,
        "peak_mb_before": before, "peak_mb": peak,
        "pdf_mb": (work / "guidance.pdf").stat().st_size / 1e6,
    }
    ctx.db.dispose()
    for leftover in work.iterdir():
        leftover.unlink()
    work.rmdir()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[808, 10_000])
    parser.add_argument("--fallback", action="store_true",
                        help="force the public-API path (no shortcuts through internals)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.fallback)))
        return
    mode = ["--fallback"] if args.fallback else []
    for size in args.sizes:
        demo_database(size)  # built (once) outside the measured process
        done = subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_letters",
                               "--one", str(size), *mode], capture_output=True, text=True,
                              check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        rate = r["letters"] / r["seconds"]
        base_rate = r["letters"] / r["baseline_seconds"]
        ratio = r["seconds"] / r["baseline_seconds"]
        print(f"{'fallback forced, ' if args.fallback else 'shortcuts on, '}"
              f"{r['victims']:>6,} victims: {r['letters']:,} letters ({r['pages']:,} pages, "
              f"{r['refused']} refused) in {r['seconds']:.1f} s = {rate:,.1f} letters/s; "
              f"baseline plain ReportLab {r['baseline_seconds']:.1f} s = "
              f"{base_rate:,.1f} letters/s; x{ratio:.2f} (target 1.5); of the "
              f"service's time, layout alone (kinsoku, font checks, QR) took "
              f"{r['layout_seconds']:.1f} s; "
              f"peak RSS {r['peak_mb']:,.0f} MB (before the batch {r['peak_mb_before']:,.0f} MB); "
              f"PDF {r['pdf_mb']:,.1f} MB", flush=True)


if __name__ == "__main__":
    main()
