"""`hosho refunds ...`: the balance-refund programme from the command line.

Imports of the two files (closing balances, applications), the work lists, the
people with money in both programmes, the 払出証書 request list and the figures.
The command line acts as the system (whoever holds the database holds everything);
the window's operators act through the same services with their own rights.
"""

from __future__ import annotations

import argparse
import json

from app.commands.desk import add_code_option, desk_of, step_up_code, whole_number
from app.core.clock import to_jst
from app.services.gateway import FileIn, FileOut


def _print_summary(summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
        return
    mode = "（試行・書き込みなし）/ dry run, nothing written" if summary.dry_run else ""
    print(f"{summary.file_name}: {summary.encoding} {mode}")
    print(f"  読込 read {summary.read:,}  取込 accepted {summary.accepted:,}  "
          f"重複 duplicate {summary.duplicate:,}  不一致 conflict {summary.conflict:,}  "
          f"不備 rejected {summary.rejected:,}")
    if summary.kind == "balances":
        print(f"  残高合計 balance accepted {summary.balance_accepted:,}円")
    else:
        for state, count in (summary.states or {}).items():
            if count:
                print(f"  {state:<20} {count:>10,}")
    for row in summary.refused[:20]:
        print(f"  {row.line}行目 line {row.line}: " + " | ".join(row.reasons))
    if summary.conflict + summary.rejected > 20:
        print(f"  … {summary.conflict + summary.rejected - 20:,} more")


def cmd_import_balances(args: argparse.Namespace) -> int:
    from app.services.refunds_import import import_balances

    summary = desk_of(args).write(import_balances, FileIn(args.path),
                                  dry_run=args.dry_run).value
    _print_summary(summary, args.json)
    return 0


def cmd_import_applications(args: argparse.Namespace) -> int:
    from app.services.refunds_import import import_applications

    summary = desk_of(args).write(import_applications, FileIn(args.path),
                                  dry_run=args.dry_run).value
    _print_summary(summary, args.json)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from app.services.refunds import work_list

    rows = desk_of(args).read(work_list, args.name, 0, args.limit)
    if args.json:
        print(json.dumps([{"application_id": r.application_id, "member_id": r.member_id,
                           "route": r.route, "applied_at": r.applied_at.isoformat(),
                           "state": r.state, "refundable_amount": r.refundable_amount}
                          for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(f"{r.application_id}  {r.member_id or '-'}  {r.route:<5} {r.applied_at:%Y-%m-%d}  "
              f"{r.state_label}  {r.refundable_amount if r.refundable_amount is not None else '-'}")
    if not rows:
        print("該当する申出はありません / nothing waiting")
    return 0


def cmd_both(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from app.services.refunds_overlap import both_programmes

    people = desk_of(args).read(both_programmes)
    if args.json:
        print(json.dumps([asdict(p) for p in people], ensure_ascii=False, indent=2))
        return 0
    for p in people:
        flag = f"  超過 EXCESS {p.excess:,}円" if p.excess else ""
        print(f"7iD {p.member_id}  {p.name}  チャージ {p.charges:,}  残高 {p.balance:,}  "
              f"補償 {p.compensation_paid:,}+{p.compensation_due:,}  "
              f"払戻 {p.refund_paid:,}+{p.refund_due:,}  上限 {p.allowed:,}{flag}")
    if not people:
        print("両方の制度に該当する人はいません / nobody in both programmes")
    return 0


def cmd_postal_list(args: argparse.Namespace) -> int:
    from app.services.refunds import postal_request_list, postal_request_list_again

    desk = desk_of(args)
    if args.again is not None:  # a list whose file was lost: its applications are claimed
        count = desk.write(postal_request_list_again, args.again, FileOut(args.out),
                           second_factor=step_up_code(args, desk)).value
        print(f"払出証書の請求リスト {args.again} を再作成 / request list {args.again} "
              f"written again: {count:,} 件 → {args.out}")
        return 0
    count = desk.write(postal_request_list, FileOut(args.out),
                       second_factor=step_up_code(args, desk)).value
    print(f"払出証書の請求リスト / postal order request list: {count:,} 件 → {args.out}")
    return 0


def cmd_postal_lists(args: argparse.Namespace) -> int:
    from app.services.refunds import postal_lists

    for made in desk_of(args).read(postal_lists):
        print(f"{made.id:>6}  {to_jst(made.created_at):%Y-%m-%d %H:%M}  "
              f"{made.item_count:,}件 {made.total_amount:,}円  {made.created_by or ''}")
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    from app.domain.refunds import WORK_LISTS

    area = sub.add_parser("refunds", help="the balance-refund programme (残高払戻し)")
    cmds = area.add_subparsers(dest="refunds_command", required=True)
    for name, handler, help_text in (
            ("import-balances", cmd_import_balances, "import the closing balances"),
            ("import-applications", cmd_import_applications, "import refund applications")):
        parser = cmds.add_parser(name, parents=[common], help=help_text)
        parser.add_argument("path", metavar="FILE")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(handler=handler)
    listing = cmds.add_parser("list", parents=[common], help="a work list")
    listing.add_argument("name", choices=list(WORK_LISTS))
    listing.add_argument("--limit", type=whole_number, default=100)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)
    both = cmds.add_parser("both", parents=[common],
                           help="people with money in both programmes")
    both.add_argument("--json", action="store_true")
    both.set_defaults(handler=cmd_both)
    postal = cmds.add_parser("postal-list", parents=[common],
                             help="the 払出証書 request list for Japan Post (CSV)")
    postal.add_argument("--out", required=True, metavar="FILE.csv")
    postal.add_argument("--again", type=whole_number, metavar="LIST",
                        help="write list LIST again (its file was lost; see postal-lists)")
    add_code_option(postal, "at a centre: the signed-in supervisor's")
    postal.set_defaults(handler=cmd_postal_list)
    cmds.add_parser("postal-lists", parents=[common],
                    help="the 払出証書 request lists made, newest first"
                    ).set_defaults(handler=cmd_postal_lists)
