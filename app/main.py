"""Entry point: wires arguments, paths, logging, database and window together."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback

from app.cli import run
from app.core.logs import setup_logging
from app.core.paths import user_data_dir

log = logging.getLogger("hosho")


def open_window(args: argparse.Namespace) -> int:
    # Imported here so that the command-line subcommands never load Qt.
    from app.ui.application import run_gui

    return run_gui(args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    log_path = setup_logging(user_data_dir() / "logs")
    try:
        return run(argv, open_window)
    except BrokenPipeError:  # output piped into head and the like
        return 0
    except KeyboardInterrupt:
        print("hosho: 中断しました / interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the details in the log
        log.error("unexpected error:\n%s", traceback.format_exc())
        print(f"hosho: 予期しないエラーです / internal error: {type(exc).__name__}: {exc} "
              f"(詳細 details: {log_path})", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
