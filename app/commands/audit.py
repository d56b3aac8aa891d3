"""`hosho audit verify`, `checkpoint`, `keygen` and `export`: checking the trail, pinning
where it stood outside the database, and handing it over."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from app.commands.desk import add_code_option, desk_of, step_up_code
from app.core.errors import UserError
from app.services.gateway import FileOut


def cmd_verify(args: argparse.Namespace) -> int:
    from app.services import checkpoints

    desk = desk_of(args)
    # The checkpoint files and the public key are on this desk: read and checked here.
    public_key = checkpoints.configured_public_key(args.public_key)
    given = checkpoints.given_checkpoints(args.against or [], public_key)
    report, findings = desk.read(checkpoints.verify_given, given)
    ok = report.intact and all(f.holds for f in findings)
    if args.json:
        print(json.dumps(report.as_json() | {"checkpoints": [f.as_json() for f in findings],
                                             "ok": ok}, ensure_ascii=False, indent=2))
        return 0 if ok else 1
    if ok:
        print(f"監査記録は改ざんされていません / audit trail intact: {report.count:,} events")
    elif report.intact:  # whole in itself, yet not what the checkpoints remember
        print(f"監査記録の鎖はそれ自体では整っています（{report.count:,} 件）が、チェックポイント"
              f"と一致しません / the chain is consistent in itself ({report.count:,} events) "
              "but does not extend every checkpoint:")
    else:
        where = f" (seq {report.broken_seq}, id {report.broken_id})" if report.broken_seq else ""
        print(f"監査記録の改ざんを検出しました / audit trail broken{where}: "
              f"{report.problem_ja} / {report.problem_en}")
        print(f"  それより前の {report.count:,} 件は正常です / the {report.count:,} events "
              "before it are intact")
    for finding in findings:
        _print_finding(finding, checkpoints.taken_at_text(finding.checkpoint))
    return 0 if ok else 1


def _print_finding(finding, taken: str) -> None:
    cp = finding.checkpoint
    label = f"{finding.name} (seq {cp.seq:,}, {taken})"
    if not finding.holds:
        print(f"チェックポイント {label} と一致しません: {finding.problem_ja} / "
              f"checkpoint {label} does not hold: {finding.problem_en}")
        return
    signed = (f"署名 signed by {cp.signature.key}" if cp.signature
              else "署名なし unsigned")
    print(f"チェックポイント {label} を含んでいます / the chain extends checkpoint {label} "
          f"({signed})")


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from app.domain.checkpoint import sign
    from app.services import checkpoints

    # The key and the file stay on this desk: the head is verified where the database
    # is, signed and written here, then recorded as taken (the file stays true even if
    # the record fails: it only describes events already there).
    key = checkpoints.configured_private_key(args.key)
    desk = desk_of(args)
    try:
        checkpoint = desk.write(checkpoints.head).value
    except checkpoints.ChainBroken as exc:
        print(f"hosho: {exc}", file=sys.stderr)
        return 1
    if key:
        checkpoint = sign(checkpoint, key)
    if args.out:
        checkpoints.write_file(checkpoint, args.out)
    desk.write(checkpoints.record, checkpoint, Path(args.out).name if args.out else None)
    if args.json or not args.out:
        print(checkpoints.dumps(checkpoint), end="")
    if args.out:
        signed = (f"署名 signed by {checkpoint.signature.key}" if checkpoint.signature else
                  f"署名なし（鍵が未設定: --key または ${checkpoints.KEY_ENV}）/ unsigned, "
                  f"no key configured (--key or ${checkpoints.KEY_ENV})")
        print(f"チェックポイントを書き出しました / checkpoint written to {args.out}: "
              f"seq {checkpoint.seq:,} {checkpoint.hash} ({signed})",
              file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from app.services import checkpoints

    private, public, fingerprint = checkpoints.generate_key(args.out)
    print(f"署名鍵を作成しました / key pair written: {private} (秘密鍵 private, 0600), "
          f"{public} (公開鍵 public)")
    print(f"  指紋 fingerprint {fingerprint}")
    print("  秘密鍵はデータベースのサーバーやバックアップとは別の場所に保管してください / "
          "keep the private key away from the database server and its backups")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UserError(f"日付は YYYY-MM-DD で指定してください: {text}",
                        f"Dates are YYYY-MM-DD: {text}") from exc


def cmd_export(args: argparse.Namespace) -> int:
    from app.services.audit_log import AuditFilter, export_events

    flt = AuditFilter(case_number=args.case,
                      day_from=_day(args.date_from) if args.date_from else None,
                      day_to=_day(args.date_to) if args.date_to else None)
    desk = desk_of(args)
    written = desk.write(export_events, FileOut(args.out), flt,
                         second_factor=step_up_code(args, desk)).value
    print(f"監査記録 {written:,} 件を書き出しました / {written:,} events written to {args.out}")
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add this area's subcommands."""
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True)
    verify = audit.add_parser("verify", parents=[common],
                              help="check the hash chain (exit 1 at the first broken event)")
    verify.add_argument("--json", action="store_true")
    verify.add_argument("--against", action="append", metavar="FILE|SEQ:HASH",
                        help="a checkpoint file the chain must still extend, or SEQ:HASH as "
                             "printed on the dashboard PDF (may repeat)")
    verify.add_argument("--public-key", metavar="FILE",
                        help="check the checkpoints' signatures with this key (default: "
                             "$HOSHO_AUDIT_PUBLIC_KEY, else the public half of $HOSHO_AUDIT_KEY)")
    verify.set_defaults(handler=cmd_verify)
    checkpoint = audit.add_parser("checkpoint", parents=[common],
                                  help="verify, then write the chain's head to a file kept "
                                       "outside the database (recorded)")
    checkpoint.add_argument("--out", metavar="FILE", help="write it here (else to stdout)")
    checkpoint.add_argument("--key", metavar="FILE",
                            help="sign with this private key (default: $HOSHO_AUDIT_KEY)")
    checkpoint.add_argument("--json", action="store_true",
                            help="print the checkpoint as JSON too")
    checkpoint.set_defaults(handler=cmd_checkpoint)
    keygen = audit.add_parser("keygen", help="make a key pair to sign checkpoints with")
    keygen.add_argument("--out", required=True, metavar="FILE",
                        help="the private key (0600); the public key goes to FILE.pub")
    keygen.set_defaults(handler=cmd_keygen)
    export = audit.add_parser("export", parents=[common],
                              help="write the trail as CSV for an auditor (recorded)")
    export.add_argument("--out", required=True, metavar="FILE")
    export.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                        help="first day (Japan time)")
    export.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD",
                        help="last day (Japan time)")
    export.add_argument("--case", metavar="CASE_NUMBER")
    add_code_option(export, "at a centre: the signed-in supervisor's")
    export.set_defaults(handler=cmd_export)
