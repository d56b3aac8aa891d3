"""Render the first page of each kind of letter from a demo case into docs/letters/.

    .venv/bin/python tools/letter_samples.py [--out docs/letters]

Builds a small demo programme in a temporary folder, produces one letter of each
kind through the letters service (the same path as the window and `hosho letters`),
and turns each first page into a PNG with `pdftoppm -r 80 -png`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.clock import FixedClock, jst_datetime  # noqa: E402
from app.domain.roles import SYSTEM_ACTOR  # noqa: E402
from app.letters import LetterKind  # noqa: E402
from app.services import demo  # noqa: E402
from app.services import letters as service  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.storage import migrate  # noqa: E402
from app.storage.db import Database  # noqa: E402

DEFICIENCY_ITEMS = ("signature_missing", "filled_date_missing")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "letters"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="letter-samples-"))
    try:
        db = Database(str(work / "demo.sqlite3"))
        migrate.upgrade(db)
        ctx = AppContext(db, FixedClock(jst_datetime(2019, 8, 26, 10, 0)))
        demo.build_demo(ctx, victims=120, seed=11)
        for kind in LetterKind:
            request = service.BatchRequest(
                kind, limit=1,
                deficiency_items=DEFICIENCY_ITEMS if kind is LetterKind.DEFICIENCY else ())
            pdf = work / f"{kind.value}.pdf"
            summary = service.produce_batch(ctx, SYSTEM_ACTOR, request, pdf)
            if not summary.letters:
                print(f"{kind.value}: no letter produced: {summary.refused}", file=sys.stderr)
                return 1
            subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1",
                            "-singlefile", str(pdf), str(out / kind.value)], check=True)
            print(f"{out / (kind.value + '.png')}  ({summary.letters[0].case_number})")
        db.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
