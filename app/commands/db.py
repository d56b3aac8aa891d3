"""`hosho db backup` and `hosho db restore`: a consistent copy, and a checked way back."""

from __future__ import annotations

import argparse


def cmd_backup(args: argparse.Namespace) -> int:
    from app.services.backup import backup_database, refuse_unless_sqlite
    from app.services.opening import open_context, resolve_db
    from app.storage.db import normalise_url

    # PostgreSQL: the pg_dump command, without connecting to the server first
    refuse_unless_sqlite(normalise_url(resolve_db(getattr(args, "db", None))), args.out,
                         "バックアップ", "hosho db backup is for SQLite")
    result = backup_database(open_context(getattr(args, "db", None)), args.out)
    print(f"バックアップしました / backed up: {result.path} ({result.size:,} bytes, "
          f"版 revision {result.revision}, 監査記録 audit events {result.events:,})")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from app.services.backup import restore_database
    from app.services.opening import resolve_db

    result = restore_database(resolve_db(getattr(args, "db", None)), args.file)
    print(f"復元しました / restored: {args.file} → {result.target} (版 revision "
          f"{result.revision}, 監査記録 audit events {result.events:,}, 検証済み verified)")
    if result.kept:
        print(f"置き換えたデータベースの控え / the replaced database is kept at: {result.kept}")
    figures = result.figures
    print(f"  被害者 victims {figures['victims']:,}  案件 cases {figures['cases']:,}  "
          f"請求総額 claimed {figures['claimed_total']:,}円  支払済 paid "
          f"{figures['paid_total']:,}円")
    return 0


def register(db_sub, common: argparse.ArgumentParser) -> None:
    """Adds to the `hosho db` group (app/cli.py makes the group and its `upgrade`)."""
    backup = db_sub.add_parser(
        "backup", parents=[common],
        help="a consistent copy of an SQLite database while desks work (PostgreSQL: "
             "prints the pg_dump command)")
    backup.add_argument("--out", required=True, metavar="FILE",
                        help="the backup file to write (never overwritten)")
    backup.set_defaults(handler=cmd_backup)
    restore = db_sub.add_parser(
        "restore", parents=[common],
        help="check a backup (schema revision, audit chain) and restore it; the replaced "
             "database is kept beside it")
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(handler=cmd_restore)
