"""Which centre server a desk talks to: --server / $HOSHO_SERVER, and the CA file that
vouches for it (--ca-file / $HOSHO_CA_FILE). Shared by the window and the commands."""

from __future__ import annotations

import argparse
import os


def server_of(args: argparse.Namespace) -> str | None:
    return getattr(args, "server", None) or os.environ.get("HOSHO_SERVER") or None


def ca_file_of(args: argparse.Namespace) -> str | None:
    return getattr(args, "ca_file", None) or os.environ.get("HOSHO_CA_FILE") or None
