"""Where the program's own files and the user's data live."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "HoshoDesk"
_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    return _ROOT


def resources_dir() -> Path:
    return _ROOT / "resources"


def migrations_dir() -> Path:
    return _ROOT / "db"


def user_data_dir() -> Path:
    """The program's own folder, owner-only (0700) even if an older version made it 0755."""
    from app.core.files import private_folder

    override = os.environ.get("HOSHO_DATA_DIR")
    return private_folder(Path(override) if override
                          else Path(platformdirs.user_data_dir(APP_NAME, False)))


def default_db_path() -> Path:
    return user_data_dir() / "hosho.sqlite3"


def demo_db_path() -> Path:
    return user_data_dir() / "demo.sqlite3"
