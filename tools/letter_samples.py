"""Render the first page of each kind of letter from a demo case (or, for the
balance-refund programme's letters, a demo refund application) into docs/letters/.

    .venv/bin/python tools/letter_samples.py [--out docs/letters]

Builds a small demo programme in a temporary folder, produces one letter of each
kind through the letters service (the same path as the window and `hosho letters`),
and turns each first page into a PNG with `pdftoppm -r 80 -png`. The refund letters
come from a few closing balances and applications imported, decided and paid through
the refund services (refund_payment twice: by transfer, and by 払出証書).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from datetime import date  # noqa: E402

from app.core.clock import FixedClock, jst_datetime  # noqa: E402
from app.domain.roles import SYSTEM_ACTOR  # noqa: E402
from app.letters import LetterKind  # noqa: E402
from app.services import demo  # noqa: E402
from app.services import letters as service  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.storage import migrate  # noqa: E402
from app.storage.db import Database  # noqa: E402

DEFICIENCY_ITEMS = ("signature_missing", "filled_date_missing")
BALANCES = [
    ["会員ID", "残高", "不正チャージ由来残高", "氏名", "フリガナ", "電話番号", "郵便番号", "住所",
     "退会日"],
    ["S-BANK", "38615", "10000", "山田 太郎", "ヤマダ タロウ", "090-1111-2222", "102-0084",
     "東京都千代田区二番町8番地8　セブンマンション101号室", ""],
    ["S-CLOSED", "4000", "", "佐藤 花子", "サトウ ハナコ", "090-3333-4444", "530-0001",
     "大阪府大阪市北区梅田1丁目1番3号", "2019-08-20"],
    ["S-POST", "12800", "", "髙橋 美咲", "タカハシ ミサキ", "080-5555-6666", "980-0021",
     "宮城県仙台市青葉区中央3丁目2番1号　青葉ハイツ203", ""],
]
APPLICATIONS = [
    ["申出番号", "会員ID", "氏名", "フリガナ", "電話番号", "申出経路", "申出日時", "払戻方法",
     "金融機関コード", "支店コード", "預金種目", "口座番号", "口座名義"],
    ["APP-2019-0012345", "S-BANK", "山田 太郎", "ヤマダ タロウ", "090-1111-2222", "アプリ",
     "2019-10-03 09:12", "口座振込", "0001", "001", "普通", "1234567", "ヤマダ タロウ"],
    ["WEB-2019-0004711", "S-CLOSED", "佐藤 花子", "サトウ ハナコ", "090-3333-4444", "Web",
     "2019-10-15 21:40", "口座振込", "0005", "001", "普通", "7654321", "サトウ ハナコ"],
    ["APP-2019-0020031", "S-POST", "髙橋 美咲", "タカハシ ミサキ", "080-5555-6666", "アプリ",
     "2019-10-20 12:00", "払出証書", "", "", "", "", ""],
]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def _refund_samples(ctx, work: Path) -> dict[str, service.BatchRequest]:
    """The refund applications through their states; the request for each sample."""
    from sqlmodel import select

    from app.services.refunds_import import import_applications, import_balances
    from app.storage.models import RefundApplication

    import_balances(ctx, SYSTEM_ACTOR, _csv(work / "balances.csv", BALANCES))
    import_applications(ctx, SYSTEM_ACTOR, _csv(work / "applications.csv", APPLICATIONS))
    with ctx.db.read() as session:
        ids = {a.application_id: a.id for a in session.exec(select(RefundApplication))}
    bank, post = ids["APP-2019-0012345"], ids["APP-2019-0020031"]
    requests = {"refund_confirmation": service.BatchRequest(
        LetterKind.REFUND_CONFIRMATION, application_ids=("APP-2019-0012345",)),
        "refund_refusal": service.BatchRequest(LetterKind.REFUND_REFUSAL)}
    return requests | {"_paid": (bank, post)}


def _pay_samples(ctx, work: Path, bank: int, post: int) -> None:
    """The transfer done (as the bank's result records it) and the 払出証書 issued."""
    from app.services import refunds

    with ctx.db.write() as session:
        app = refunds._get(session, bank, lock=True)
        refunds._pay(session, SYSTEM_ACTOR, ctx.clock.now(), app, "transfer", "ZENGIN-SAMPLE")
    refunds.postal_request_list(ctx, SYSTEM_ACTOR, work / "yucho.csv")
    refunds.postal_issued(ctx, SYSTEM_ACTOR, post, "00160-3-128001", date(2020, 6, 30))


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
        samples: list[tuple[str, service.BatchRequest]] = [
            (kind.value, service.BatchRequest(
                kind, limit=1,
                deficiency_items=DEFICIENCY_ITEMS if kind is LetterKind.DEFICIENCY else ()))
            for kind in LetterKind if kind.programme == "compensation"]
        for name, request in samples:
            if not _sample(ctx, work, out, name, request):
                return 1
        # the balance-refund programme, in December 2019
        ctx.clock = FixedClock(jst_datetime(2019, 12, 2, 10, 0))
        refund = _refund_samples(ctx, work)
        bank, post = refund.pop("_paid")
        for name, request in refund.items():
            if not _sample(ctx, work, out, name, request):
                return 1
        ctx.clock = FixedClock(jst_datetime(2019, 12, 20, 10, 0))
        _pay_samples(ctx, work, bank, post)
        for name, application in (("refund_payment", "APP-2019-0012345"),
                                  ("refund_payment_postal", "APP-2019-0020031")):
            request = service.BatchRequest(LetterKind.REFUND_PAYMENT,
                                           application_ids=(application,))
            if not _sample(ctx, work, out, name, request):
                return 1
        db.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _sample(ctx, work: Path, out: Path, name: str, request) -> bool:
    pdf = work / f"{name}.pdf"
    summary = service.produce_batch(ctx, SYSTEM_ACTOR, request, pdf)
    if not summary.letters:
        print(f"{name}: no letter produced: {summary.refused}", file=sys.stderr)
        return False
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1",
                    "-singlefile", str(pdf), str(out / name)], check=True)
    print(f"{out / (name + '.png')}  ({summary.letters[0].case_number})")
    return True


if __name__ == "__main__":
    raise SystemExit(main())
