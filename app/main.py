"""Entry point: wires arguments, paths, logging, database and window together."""

from __future__ import annotations

import argparse
import sys

from app.cli import run
from app.core.files import clean_stale_temporaries
from app.core.logs import report_bug, setup_logging
from app.core.paths import user_data_dir


def open_window(args: argparse.Namespace) -> int:
    # Imported here so that the command-line subcommands never load Qt.
    from app.ui.application import run_gui

    return run_gui(args)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    log_path = setup_logging(user_data_dir() / "logs")
    clean_stale_temporaries()  # what a killed or crashed run left half written
    try:
        return run(argv, open_window)
    except BrokenPipeError:  # output piped into head and the like
        return 0
    except KeyboardInterrupt:
        print("hosho: 中断しました / interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the details in the log
        # Never the exception's text: a database error's would echo other people's rows.
        reference = report_bug(exc)
        print(f"hosho: 予期しないエラーです（参照番号 {reference}）/ internal error "
              f"{type(exc).__name__} (reference {reference}; 詳細 details: {log_path})",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
