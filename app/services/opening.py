"""Opening the database a command or the window names: the one place that resolves
--db / $HOSHO_DB / the user data folder, refuses a file that is not there (unless the
command may create one), and brings the schema up to date with its backup."""

from __future__ import annotations

import os
import sys

from app.core.errors import UserError
from app.core.paths import default_db_path
from app.services.context import AppContext
from app.storage import migrate
from app.storage.db import Database, normalise_url, sqlite_path


def resolve_db(arg: str | None) -> str:
    """--db, else $HOSHO_DB, else a file in the user data folder."""
    return arg or os.environ.get("HOSHO_DB") or str(default_db_path())


# SQLite files this run created: removed again if the command is refused before it
# wrote anything (an empty file would pass for a database).
created_databases: list[Database] = []


def open_context(db_arg: str | None, *, upgrade: bool = True, create: bool = False) -> AppContext:
    """Open (and if needed upgrade) the database; only some commands may create one."""
    url = normalise_url(resolve_db(db_arg))
    path = sqlite_path(url)
    if path is not None and not create and not path.exists():
        raise UserError(f"データベースが見つかりません: {path}",
                        f"No database at {path} (create one with `hosho demo` or "
                        "`hosho operator add`).")
    new = path is not None and not path.exists()
    db = Database(url)
    if new:
        created_databases.append(db)
    if upgrade:
        result = migrate.ensure_current(db)
        if result and result.backup:
            print(f"データベースを更新しました（バックアップ: {result.backup}）/ "
                  f"database upgraded, backup at {result.backup}", file=sys.stderr)
    return AppContext(db=db)
