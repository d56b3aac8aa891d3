"""`hosho` subcommands for the outreach area."""

from __future__ import annotations

import argparse


def register(sub, common: argparse.ArgumentParser) -> None:
    """Add this area's subcommands (none yet)."""
