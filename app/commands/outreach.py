"""`hosho` subcommands for the outreach area: the queue, the dashboard figures, settings."""

from __future__ import annotations

import argparse
import json

from app.commands.desk import desk_of
from app.core.clock import to_jst


def _moment(value) -> str | None:
    return to_jst(value).isoformat() if value else None


def cmd_queue(args: argparse.Namespace) -> int:
    from app.services import queue

    desk = desk_of(args)
    if args.sweep_unreachable:
        moved = desk.write(queue.mark_unreachable_overdue).value
        print(f"連絡不能にした案件 / moved to unreachable: {len(moved)}")
        return 0
    if args.letter_due:
        rows = desk.read(queue.letter_due, 0, args.limit)
    elif args.no_contact:
        rows = desk.read(queue.list_no_contact, 0, args.limit)
    else:
        rows = desk.read(queue.list_queue, 0, args.limit)
    if args.json:
        print(json.dumps([{
            "case_id": r.case_id, "case_number": r.case_number, "name": r.name,
            "channel": r.channel.value, "contact_received_at":
                r.contact_received_at.isoformat() if r.contact_received_at else None,
            "failed_attempts": r.failed_attempts, "call_back_at": _moment(r.call_back_at),
            "held": r.holder_id is not None and r.held_until is not None,
        } for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        call_back = f"  折返 call back {_moment(r.call_back_at)}" if r.call_back_at else ""
        print(f"{r.case_number}  {r.channel.label_ja:<14} {r.contact_received_at or '-'}  "
              f"{r.name}  不通 failed {r.failed_attempts}{call_back}")
    if not rows:
        print("該当する案件はありません / nothing waiting")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from app.services.dashboard import dashboard, write_csv

    board = desk_of(args).read(dashboard)
    # Written here, on this desk, from the figures the desk was given.
    if args.csv:
        write_csv(board, args.csv)
    if args.pdf:
        from app.exports.dashboard_pdf import write_pdf

        write_pdf(board, args.pdf)
    if args.json:
        print(json.dumps(board.to_json(), ensure_ascii=False, indent=2, default=str))
        return 0
    totals = board.totals
    print(f"被害者 victims {board.victims:,} (公表 public {board.public_victims:,}, "
          f"差 difference {board.victims_difference:+,})")
    print(f"請求 claimed {totals.claimed:,}円 (公表 public {board.public_total_yen:,}円, "
          f"差 difference {board.claimed_difference:+,}円)")
    print(f"確認 verified {totals.verified:,}円  承認 approved {totals.approved:,}円  "
          f"支払 paid {totals.paid:,}円  未払 outstanding {totals.outstanding:,}円")
    for channel, money in board.by_channel.items():
        print(f"  {channel:<18} {money.cases:>8,} 件 {money.claimed:>14,}円 "
              f"paid {money.paid:>14,}円")
    print("案内 outreach: " + ", ".join(f"{k} {v:,}" for k, v in board.outreach.items()))
    print("期限 deadlines: " + ", ".join(f"{k} {v:,}" for k, v in board.deadlines.items()))
    return 0


def cmd_settings_get(args: argparse.Namespace) -> int:
    from app.domain.settings import SETTING_NAMES, parse_setting
    from app.services import settings

    values = desk_of(args).read(settings.get).to_json_dict()
    if args.key:
        if args.key not in SETTING_NAMES:
            parse_setting(args.key, "")  # refuses the unknown key, bilingually
        # A value stored before it was checked is shown as it is, to be fixed.
        values = {args.key: values[args.key]}
    if args.json:
        print(json.dumps(values, ensure_ascii=False, indent=2))
    else:
        for key, value in values.items():
            print(f"{key} = {value}")
    return 0


def cmd_settings_set(args: argparse.Namespace) -> int:
    from app.services import settings

    changed = desk_of(args).write(settings.change, args.key, args.value).value
    print(f"{args.key} = {changed.to_json_dict()[args.key]}")
    return 0


# The sender of the 総合振込 file, as banks publish its header; each is checked when set.
SENDER_HELP = """\
sender of the transfer file (総合振込), checked when set:
  zengin_company_code    委託者コード: the 10 digits the bank gave
  zengin_company_name    委託者名: kana, at most 40 half-width characters once
                         converted (katakana but ヲ, A-Z, digits, space, ( ) - .)
  zengin_bank_code       4 digits;  zengin_branch_code  3 digits
  zengin_account_number  7 digits
  zengin_account_type    ordinary, current or other (預金種目 1, 2 or 9)
  zengin_line_end        crlf (most banks), lf or none: lf and none are refused
                         by some banks (一部の銀行は受け付けません)
"""


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add this area's subcommands."""
    q = sub.add_parser("queue", parents=[common], help="the outreach queue in calling order")
    q.add_argument("--json", action="store_true")
    q.add_argument("--limit", type=int, default=50)
    which = q.add_mutually_exclusive_group()
    which.add_argument("--letter-due", action="store_true",
                       help="cases due a guidance letter after failed attempts")
    which.add_argument("--no-contact", action="store_true",
                       help="cases whose victim left no contact details")
    which.add_argument("--sweep-unreachable", action="store_true",
                       help="move cases whose guidance letter went unanswered to unreachable")
    q.set_defaults(handler=cmd_queue)

    d = sub.add_parser("dashboard", parents=[common], help="programme dashboard figures")
    d.add_argument("--json", action="store_true")
    d.add_argument("--csv", metavar="FILE", help="also write every figure to a CSV file")
    d.add_argument("--pdf", metavar="FILE", help="also write the one-page PDF report")
    d.set_defaults(handler=cmd_dashboard)

    s = sub.add_parser("settings", help="programme settings").add_subparsers(
        dest="settings_command", required=True)
    get = s.add_parser("get", parents=[common], help="show settings")
    get.add_argument("key", nargs="?")
    get.add_argument("--json", action="store_true")
    get.set_defaults(handler=cmd_settings_get)
    put = s.add_parser("set", parents=[common], help="change a setting (audited)",
                       epilog=SENDER_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    put.add_argument("key")
    put.add_argument("value")
    put.set_defaults(handler=cmd_settings_set)
