"""`hosho letters`: produce a batch of letters, mark a batch mailed, find a letter by
its code, print the envelope alignment sheet.

The balance-refund programme's letters are kinds of their own (refund_confirmation,
refund_refusal, refund_payment): to the applications due them, or to the application
numbers given with --application; `hosho letters due` counts what is due."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from app.commands.desk import at_centre, desk_of
from app.services.gateway import FileOut
from app.services.progress import Watch

KINDS = ("guidance", "deficiency", "payment_notice")
REFUND_KINDS = ("refund_confirmation", "refund_refusal", "refund_payment")
_REFUND_HELP = {"refund_confirmation": "confirmation of the refund amount",
                "refund_refusal": "refusal, with the reason",
                "refund_payment": "payment notice (transfer, or the 払出証書 to cash by a day)"}


class _Printed(Watch):
    """The batch's progress on standard error (here, or as the centre streams it)."""

    def report(self, done: int, total: int) -> None:
        super().report(done, total)
        if done == total or done % 100 == 0:
            print(f"  {done:,}/{total:,}", file=sys.stderr)


def cmd_produce(args: argparse.Namespace) -> int:
    from app.core.errors import UserError
    from app.domain.channels import Channel
    from app.domain.states import Status
    from app.letters import LetterKind
    from app.services.letters import BatchRequest, produce_batch

    try:
        if args.kind in REFUND_KINDS:
            request = BatchRequest(LetterKind(args.kind),
                                   application_ids=tuple(args.application or ()),
                                   limit=args.limit)
        else:
            request = BatchRequest(
                LetterKind(args.kind), case_numbers=tuple(args.case or ()),
                channel=Channel(args.channel) if args.channel else None,
                status=Status(args.status) if args.status else None,
                letter_due=args.letter_due, limit=args.limit,
                deficiency_items=tuple(args.item or ()), deficiency_note=args.note or "",
                reply_by=date.fromisoformat(args.reply_by) if args.reply_by else None)
    except ValueError as exc:
        raise UserError(f"指定が正しくありません: {exc}", f"Bad option: {exc}") from exc
    per_case = FileOut(args.per_case, folder=True) if args.per_case else None
    summary = desk_of(args).write(produce_batch, request, FileOut(args.out),
                                  per_case_dir=per_case,
                                  watch=None if args.json else _Printed()).value
    if summary.out is not None and at_centre(args):  # the desk's path, not the server's spool
        summary = replace(summary, out=Path(args.per_case or args.out))
    if args.json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
    else:
        where = summary.out or "-"
        print(f"発送バッチ batch {summary.batch_id or '-'}: {len(summary.letters):,} 通 letters, "
              f"{summary.pages:,} 頁 pages → {where}")
        for row in summary.refused:
            print(f"  作成できませんでした refused {row.case_number}: {row.reason}")
    return 0 if summary.letters else 1


def cmd_mark_mailed(args: argparse.Namespace) -> int:
    from app.services.letters import mark_mailed

    summary = desk_of(args).write(mark_mailed, args.batch_id).value
    if args.json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
        return 0
    print(f"発送済みにしました batch {summary.batch_id}: {summary.letters:,} 通 letters, "
          f"状態を進めた案件 moved {len(summary.moved):,}")
    for row in summary.stayed:
        print(f"  {row.case_number}: {row.reason}")
    return 0


def cmd_find(args: argparse.Namespace) -> int:
    from app.core.errors import NotFound
    from app.services.letters import find_letter

    found = desk_of(args).read(find_letter, args.code)
    if found is None:
        raise NotFound(f"文書番号 {args.code} の書面は見つかりません。",
                       f"No letter with code {args.code}.")
    data = {"programme": found.programme, "case_number": found.case_number or None,
            "case_id": found.case_id, "application_id": found.application_id,
            "code": found.code, "kind": found.kind.value, "batch_id": found.batch_id,
            "created_at": found.created_at.isoformat(),
            "mailed_at": found.mailed_at.isoformat() if found.mailed_at else None}
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        owner = found.case_number or f"払戻 refund {found.application_id}"
        print(f"{found.code}  {owner}  {found.kind.value}  "
              f"batch {found.batch_id}  mailed {data['mailed_at'] or '-'}")
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    from app.services.letters import PROGRAMME_LABELS, list_batches

    rows = desk_of(args).read(list_batches, args.limit)
    if args.json:
        print(json.dumps([{"id": b.id, "kind": b.kind.value, "programme": b.programme,
                           "letters": b.letters,
                           "pages": b.pages, "refused": b.refused, "out": b.out_path,
                           "created_at": b.created_at.isoformat(),
                           "mailed_at": b.mailed_at.isoformat() if b.mailed_at else None}
                          for b in rows], ensure_ascii=False, indent=2))
        return 0
    for b in rows:
        mailed = f"発送済 mailed {b.mailed_at:%Y-%m-%d}" if b.mailed_at else "未発送 not mailed"
        programme = PROGRAMME_LABELS[b.programme][0]
        print(f"{b.id:>5}  {programme:<6} {b.kind.value:<20} {b.letters:>6,} 通  {mailed}  "
              f"{b.out_path}")
    return 0


def cmd_due(args: argparse.Namespace) -> int:
    from app.services.letters import refund_letters_due

    due = desk_of(args).read(refund_letters_due)
    if args.json:
        print(json.dumps(due, ensure_ascii=False, indent=2))
        return 0
    for kind, count in due.items():
        print(f"{kind:<20} {count:>8,} 件 due")
    return 0


def cmd_alignment(args: argparse.Namespace) -> int:
    from app.services.letters import alignment_sheet

    desk_of(args).read(alignment_sheet, FileOut(args.out))
    print(f"位置合わせ用紙 alignment sheet: {args.out}")
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    """`hosho letters KIND ...`, `letters mark-mailed`, `find`, `batches`, `alignment`."""
    top = sub.add_parser("letters", help="letters: batches, mailing, codes")
    area = top.add_subparsers(dest="letters_command", required=True)
    for kind in KINDS:
        p = area.add_parser(kind, parents=[common], help=f"produce a batch of {kind} letters")
        p.add_argument("--case", action="append", metavar="NUMBER",
                       help="a case number (repeat); without it the rule options choose")
        p.add_argument("--channel", choices=("credit_charge", "debit_charge",
                                             "nanaco_charge", "unauthorized_use"))
        p.add_argument("--status", help="case status (default: the kind's usual one)")
        p.add_argument("--letter-due", action="store_true",
                       help="only cases the outreach queue marked as due a letter")
        p.add_argument("--limit", type=int)
        p.add_argument("--out", required=True, help="the batch PDF")
        p.add_argument("--per-case", metavar="DIR", help="one PDF per case in DIR instead")
        if kind == "deficiency":
            p.add_argument("--item", action="append", required=True,
                           help="a checklist item code (repeat)")
            p.add_argument("--note", help="free text printed with the items")
        p.set_defaults(item=None, note=None)
        p.add_argument("--reply-by", metavar="YYYY-MM-DD")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=cmd_produce, kind=kind)
    for kind in REFUND_KINDS:
        p = area.add_parser(kind, parents=[common],
                            help=f"balance refund: {_REFUND_HELP[kind]}")
        p.add_argument("--application", action="append", metavar="NUMBER",
                       help="an application number, 申出番号 (repeat); without it every "
                            "application due this letter")
        p.add_argument("--limit", type=int)
        p.add_argument("--out", required=True, help="the batch PDF")
        p.add_argument("--per-case", metavar="DIR", help="one PDF per application in DIR")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=cmd_produce, kind=kind)
    due = area.add_parser("due", parents=[common],
                          help="how many refund applications each refund letter is due for")
    due.add_argument("--json", action="store_true")
    due.set_defaults(handler=cmd_due)
    mailed = area.add_parser("mark-mailed", parents=[common],
                             help="record a batch as posted; cases move on")
    mailed.add_argument("batch_id", type=int)
    mailed.add_argument("--json", action="store_true")
    mailed.set_defaults(handler=cmd_mark_mailed)
    find = area.add_parser("find", parents=[common], help="the case of a letter code")
    find.add_argument("code")
    find.add_argument("--json", action="store_true")
    find.set_defaults(handler=cmd_find)
    batches = area.add_parser("batches", parents=[common], help="recent batches")
    batches.add_argument("--limit", type=int, default=20)
    batches.add_argument("--json", action="store_true")
    batches.set_defaults(handler=cmd_batches)
    align = area.add_parser("alignment", parents=[common],
                            help="the envelope window alignment sheet")
    align.add_argument("--out", required=True)
    align.set_defaults(handler=cmd_alignment)
