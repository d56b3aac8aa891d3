"""`hosho payouts ...` and `hosho reconcile`: refund batches, lists, reconciliation.

Every command calls the services through its desk (app.commands.desk): on a local
database as the system (no operator), at a centre as the operator signed in there.
Building, releasing and cancelling a batch are supervisor acts with four eyes: on a
local database those subcommands take ``--as LOGIN`` naming the supervisor; at a
centre the supervisor is the one signed in (build as one, release as another: two
sign-ins). The same supervisor cannot build and release one batch. Releasing is the
moment money leaves: it also takes the releasing supervisor's authenticator code
(``--code``, or asked for), as in the window; so do the files of personal data
(transfer file, card and nanaco lists) at a centre.
"""

from __future__ import annotations

import argparse
import json
from datetime import date

from app.commands.desk import add_code_option, desk_of, step_up_code
from app.core.errors import UserError
from app.domain.channels import Channel
from app.services.gateway import FileOut


def _print_batch(batch, as_json: bool) -> None:
    if as_json:
        print(json.dumps({
            "id": batch.id, "status": batch.status, "channel": batch.channel,
            "transfer_date": batch.transfer_date.isoformat(), "items": batch.item_count,
            "total": batch.total_amount, "built_by": batch.built_by,
            "released_by": batch.released_by, "done": batch.done, "returned": batch.returned,
            "pending": batch.pending}, ensure_ascii=False, indent=2))
        return
    print(f"バッチ batch {batch.id}: {batch.status}  振込日 transfer date "
          f"{batch.transfer_date}  {batch.item_count:,}件 items  {batch.total_amount:,}円")
    if batch.done or batch.returned:
        print(f"  入金済 done {batch.done}  返却 returned {batch.returned}  "
              f"結果待ち pending {batch.pending}")


def cmd_batch(args: argparse.Namespace) -> int:
    from app.services import payouts

    batch = desk_of(args, supervisor=True).write(
        payouts.build_batch, channel=Channel(args.channel) if args.channel else None,
        limit=args.limit, transfer_date=date.fromisoformat(args.date) if args.date else None,
        refunds=args.refunds).value
    _print_batch(batch, args.json)
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from app.services import payouts

    desk = desk_of(args, supervisor=True)
    _print_batch(desk.write(payouts.release_batch, args.batch,
                            second_factor=step_up_code(args, desk)).value, args.json)
    return 0


def _case_id(desk, number: str) -> int:
    from app.services.cases import find_case_id

    case_id = desk.read(find_case_id, number)
    if case_id is None:
        raise UserError(f"案件 {number} が見つかりません。", f"No case {number}.")
    return case_id


def cmd_withdraw(args: argparse.Namespace) -> int:
    from app.services import payouts

    desk = desk_of(args, supervisor=True)
    desk.write(payouts.withdraw_request, _case_id(desk, args.case), args.reason)
    print(f"依頼を取り下げました / request withdrawn: {args.case}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    from app.services import payouts

    _print_batch(desk_of(args, supervisor=True).write(payouts.cancel_batch, args.batch,
                                                      args.reason).value, args.json)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from app.services import payouts

    desk = desk_of(args)
    batch = desk.write(payouts.export_batch, args.batch, FileOut(args.out),
                       second_factor=step_up_code(args, desk)).value
    print(f"振込データを書き出しました / transfer file written: {args.out} "
          f"({batch.item_count:,}件 {batch.total_amount:,}円, 振込日 {batch.transfer_date})")
    return 0


def cmd_sent(args: argparse.Namespace) -> int:
    from app.services import payouts

    _print_batch(desk_of(args).write(payouts.mark_sent, args.batch).value, args.json)
    return 0


def cmd_result(args: argparse.Namespace) -> int:
    from app.services import payouts

    if args.file:
        entries = payouts.read_results_csv(args.file)
    elif args.case and args.outcome:
        entries = [payouts.ResultEntry(args.case, args.outcome, args.reason)]
    else:
        raise UserError("--file か、--case と --done/--returned を指定してください。",
                        "Give --file, or --case with --done or --returned REASON.")
    summary = desk_of(args).write(payouts.record_results, args.batch, entries).value
    print(f"入金済 done {len(summary.done)}  返却 returned {len(summary.returned)}")
    for number in summary.returned:
        print(f"  返却 returned: {number}")
    return 0


def cmd_card_list(args: argparse.Namespace) -> int:
    from app.services import payouts

    desk = desk_of(args)
    count = desk.write(payouts.card_cancellation_list, args.issuer, FileOut(args.out),
                       second_factor=step_up_code(args, desk)).value
    print(f"取消依頼リスト / cancellation list: {args.out} ({count:,}件)")
    return 0


def cmd_nanaco_list(args: argparse.Namespace) -> int:
    from app.services import payouts

    desk = desk_of(args)
    count = desk.write(payouts.nanaco_list, FileOut(args.out),
                       second_factor=step_up_code(args, desk)).value
    print(f"ポイント戻し入れリスト / reinstatement list: {args.out} ({count:,}件)")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from app.services import payouts

    desk = desk_of(args)
    desk.write(payouts.confirm_request, _case_id(desk, args.case), done=not args.refused,
               reason=args.refused)
    print("記録しました / recorded")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from app.services import payouts

    desk = desk_of(args)
    batches = desk.read(payouts.list_batches)
    if args.json:
        print(json.dumps([{"id": b.id, "status": b.status, "items": b.item_count,
                           "total": b.total_amount,
                           "transfer_date": b.transfer_date.isoformat()} for b in batches],
                         ensure_ascii=False, indent=2))
        return 0
    for batch in batches:
        _print_batch(batch, False)
    waiting = desk.read(payouts.waiting_for_transfer)
    print("振込待ち waiting: " + (", ".join(f"{k} {v}" for k, v in waiting.items()) or "0"))
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from app.services.reconcile import DIFFERENCES_JA, FIGURES, reconcile, write_csv

    report = desk_of(args).read(reconcile)
    # Written here, on this desk, from the figures the desk was given.
    if args.csv:
        write_csv(report, args.csv)
    if args.pdf:
        from app.exports.reconcile_pdf import write_pdf

        write_pdf(report, args.pdf)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return 0 if report.balanced else 1
    print(f"{'channel':<18}" + "".join(f"{k:>14}" for k in FIGURES))
    for channel, figures in [*report.by_channel.items(), ("total", report.total)]:
        print(f"{channel:<18}" + "".join(f"{getattr(figures, k):>14,}" for k in FIGURES))
    for b in report.batches:
        print(f"batch {b.batch_id} {b.status:<9} {b.items_total:>12,}円 done {b.done:,} "
              f"returned {b.returned:,} pending {b.pending:,} 差 diff {b.difference:+,}")
    for d in report.differences:
        print(f"差異 difference {d.case_number}: {DIFFERENCES_JA[d.what]} "
              f"({d.expected} ≠ {d.found})")
    print("一致 balanced" if report.balanced else f"差異あり {len(report.differences)} differences")
    return 0 if report.balanced else 1


def register(sub, common: argparse.ArgumentParser) -> None:
    pay = sub.add_parser("payouts", help="refund batches, transfer files, card and nanaco lists")
    cmds = pay.add_subparsers(dest="payouts_command", required=True)

    def add(name: str, handler, help_text: str, *, batch: bool = False, sv: bool = False,
            json_out: bool = True):
        parser = cmds.add_parser(name, parents=[common], help=help_text)
        if batch:
            parser.add_argument("batch", type=int, help="batch number")
        if sv:
            parser.add_argument("--as", dest="as_login", metavar="LOGIN",
                                help="on a local database: the supervisor doing this (four "
                                     "eyes: build and release need two different "
                                     "supervisors); refused at a centre, where the "
                                     "signed-in supervisor acts")
        if json_out:
            parser.add_argument("--json", action="store_true")
        parser.set_defaults(handler=handler)
        return parser

    build = add("batch", cmd_batch, "build a batch from approved bank-transfer cases", sv=True)
    build.add_argument("--channel", choices=[c.value for c in Channel])
    build.add_argument("--limit", type=int, metavar="N")
    build.add_argument("--refunds", action="store_true",
                       help="also take the balance refunds waiting for a transfer (one batch "
                            "may hold both programmes)")
    build.add_argument("--date", metavar="YYYY-MM-DD",
                       help="wanted transfer date (moved to the next bank business day)")
    release = add("release", cmd_release, "release a batch (a second supervisor, with a code)",
                  batch=True, sv=True)
    add_code_option(release, "the releasing supervisor's")
    cancel = add("cancel", cmd_cancel, "cancel a batch not yet sent", batch=True, sv=True)
    cancel.add_argument("--reason", required=True)
    export = add("export", cmd_export, "write the Zengin transfer file", batch=True,
                 json_out=False)
    export.add_argument("--out", required=True, metavar="FILE")
    add_code_option(export, "at a centre: the signed-in supervisor's")
    add("sent", cmd_sent, "mark a batch as sent to the bank", batch=True)
    result = add("result", cmd_result, "enter the bank's results", batch=True, json_out=False)
    result.add_argument("--file", metavar="RESULTS.csv",
                        help="CSV: case number or sequence, done/returned, reason")
    result.add_argument("--case", metavar="CASE", help="one case number (or sequence)")
    outcome = result.add_mutually_exclusive_group()
    outcome.add_argument("--done", dest="outcome", action="store_const", const="done")
    outcome.add_argument("--returned", dest="outcome", action="store_const", const="returned")
    result.add_argument("--reason", help="why it was returned (closed_account, name_mismatch...)")
    card = add("card-list", cmd_card_list, "cancellation request list for one card issuer",
               json_out=False)
    card.add_argument("issuer")
    card.add_argument("--out", required=True, metavar="FILE.csv")
    add_code_option(card, "at a centre: the signed-in supervisor's")
    nanaco = add("nanaco-list", cmd_nanaco_list, "nanaco points reinstatement list",
                 json_out=False)
    nanaco.add_argument("--out", required=True, metavar="FILE.csv")
    add_code_option(nanaco, "at a centre: the signed-in supervisor's")
    confirm = add("confirm", cmd_confirm, "a card company or nanaco confirmation for a case",
                  json_out=False)
    confirm.add_argument("case")
    confirm.add_argument("--refused", metavar="REASON", help="refused, with the reason")
    withdraw = add("withdraw", cmd_withdraw, "give up a card or nanaco request (a supervisor)",
                   sv=True, json_out=False)
    withdraw.add_argument("case")
    withdraw.add_argument("--reason", required=True)
    add("list", cmd_list, "batches and the cases waiting")

    rec = sub.add_parser("reconcile", parents=[common],
                         help="reconciliation per channel and per batch")
    rec.add_argument("--json", action="store_true")
    rec.add_argument("--pdf", metavar="OUT.pdf")
    rec.add_argument("--csv", metavar="OUT.csv")
    rec.set_defaults(handler=cmd_reconcile)
