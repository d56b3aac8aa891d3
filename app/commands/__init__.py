"""Subcommands of `hosho` by area; each module's ``register(sub, common)`` adds its own.

Keeping each area's commands in its own module lets the areas grow apart
without all editing app/cli.py.
"""

from __future__ import annotations

import argparse

from app.commands import audit, letters, outreach, payouts, refunds, server

AREAS = (letters, audit, payouts, outreach, refunds, server)


def register_all(sub, common: argparse.ArgumentParser) -> None:
    for area in AREAS:
        area.register(sub, common)
