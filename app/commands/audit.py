"""`hosho audit verify` and `hosho audit export`: checking the trail and handing it over."""

from __future__ import annotations

import argparse
import json
from datetime import date

from app.core.errors import UserError


def _context(args: argparse.Namespace):
    from app.cli import open_context

    return open_context(getattr(args, "db", None))


def cmd_verify(args: argparse.Namespace) -> int:
    from app.services.audit_log import verify_chain

    report = verify_chain(_context(args))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    elif report.intact:
        print(f"監査記録は改ざんされていません / audit trail intact: {report.count:,} events")
    else:
        where = f" (seq {report.broken_seq}, id {report.broken_id})" if report.broken_seq else ""
        print(f"監査記録の改ざんを検出しました / audit trail broken{where}: "
              f"{report.problem_ja} / {report.problem_en}")
        print(f"  それより前の {report.count:,} 件は正常です / the {report.count:,} events "
              "before it are intact")
    return 0 if report.intact else 1


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"日付は YYYY-MM-DD で指定してください: {text}",
                        f"Dates are YYYY-MM-DD: {text}") from exc


def cmd_export(args: argparse.Namespace) -> int:
    from app.domain.roles import SYSTEM_ACTOR
    from app.services.audit_log import AuditFilter, export_events

    flt = AuditFilter(case_number=args.case,
                      day_from=_day(args.date_from) if args.date_from else None,
                      day_to=_day(args.date_to) if args.date_to else None)
    written = export_events(_context(args), SYSTEM_ACTOR, args.out, flt)
    print(f"監査記録 {written:,} 件を書き出しました / {written:,} events written to {args.out}")
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add this area's subcommands."""
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True)
    verify = audit.add_parser("verify", parents=[common],
                              help="check the hash chain (exit 1 at the first broken event)")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)
    export = audit.add_parser("export", parents=[common],
                              help="write the trail as CSV for an auditor (recorded)")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                        help="first day (Japan time)")
    export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD",
                        help="last day (Japan time)")
    export.add_argument("--case", metavar="CASE_NUMBER")
    export.set_defaults(handler=cmd_export)
