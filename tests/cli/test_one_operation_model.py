"""One operation model for the command line (#15 item 6): every subcommand either is
LOCAL_ONLY (refused with --server) or reaches the services only through its gateway,
and at a centre only services on the server's allow-list, as the server binds them.

Every leaf of the argparse tree is run with --server at a loopback centre: a gateway
that does what the server does with a call (the allow-list entry, its kind, the
arguments validated against the service's hints by the server's own bind_arguments,
files only as FileIn/FileOut in the parameters the entry declares), runs the service
on a real database, and rebuilds the answer from JSON as a desk does. Opening a
database is made to fail, so a handler that opened one itself is caught. A static
check holds every ``.read(...)``/``.write(...)`` in the command modules against the
allow-list, and ``open_context`` to the local-only handlers.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, run
from app.commands.desk import LOCAL_ONLY
from app.domain.roles import SYSTEM_ACTOR
from app.remote.codec import decode_result, encode
from app.server.allow import ALLOWED, READ, WRITE
from app.server.app import bind_arguments
from app.server.files import IN, MARK
from app.services.gateway import FileIn, FileOut, Outcome, service_name

ROOT = Path(__file__).resolve().parents[2]
COMMAND_MODULES = [ROOT / "app" / "cli.py", *sorted((ROOT / "app" / "commands").glob("*.py"))]
URL = "https://centre.invalid"
STRONG = "a long enough password for tests"

# Options a subcommand needs to get as far as the services (its own checks first).
EXTRA = {
    "payouts result": ["--case", "H-1", "--done"],
    "operator add": ["--password-stdin"],
    "login": None,  # the sign-in itself: no session yet, nothing through a gateway
}


class Unbound:
    """What app.server.files.FileBinder does with a marker, but the path stays the
    desk's (the loopback centre runs on the desk's disk)."""

    def bind(self, name: str, direction: str, value):
        if value is None:
            return None
        assert isinstance(value, dict) and MARK in value, f"{name}: a path, not a file"
        assert (value[MARK] == "in") == (direction == IN), f"{name}: wrong direction"
        return value["path"]


def wired(values):
    """FileIn / FileOut as the remote gateway puts them on the wire (here with the path)."""
    if isinstance(values, dict):
        return {k: wired(v) for k, v in values.items()}
    if isinstance(values, tuple | list):
        return [wired(v) for v in values]
    if isinstance(values, FileIn):
        return {MARK: "in", "upload": "x" * 16, "path": values.path}
    if isinstance(values, FileOut):
        return {MARK: "out", "slot": 0, "name": Path(values.path).name,
                "folder": values.folder, "path": values.path}
    return encode(values)


class LoopbackCentre:
    """A signed-in centre as the server sees a call, without the HTTP in between."""

    actor = None  # as a RemoteGateway signed in from a token file: not known here

    def __init__(self, ctx) -> None:
        self.ctx, self.calls = ctx, []

    def _call(self, kind: str, service, args, kwargs):
        name = service_name(service)
        self.calls.append((kind, name))
        entry = ALLOWED.get(name)
        assert entry is not None, f"{name} is not on the server's allow-list"
        assert entry.kind == kind, f"{name} is a {entry.kind}, called as a {kind}"
        kwargs = {k: v for k, v in kwargs.items() if k != "watch"}
        for value in [*args, *kwargs.values()]:
            assert not isinstance(value, str | Path) or not Path(str(value)).is_absolute(), \
                f"{name}: a path given as a plain value"
        bound_args, bound_kwargs = bind_arguments(entry, SYSTEM_ACTOR, wired(list(args)),
                                                  wired(kwargs), Unbound())
        result = entry.service(self.ctx, *bound_args, **bound_kwargs)
        return decode_result(service, encode(result))  # as a desk rebuilds the answer

    def read(self, service, *args, watch=None, **kwargs):
        return self._call(READ, service, args, kwargs)

    def write(self, service, *args, watch=None, **kwargs):
        return Outcome(self._call(WRITE, service, args, kwargs))

    def sign_out(self) -> None:
        self.calls.append((WRITE, "sessions.sign_out"))


def leaves(parser: argparse.ArgumentParser, words=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from leaves(sub, (*words, name))
    if words and parser.get_default("handler") is not None:
        yield " ".join(words), parser


def minimal_argv(parser: argparse.ArgumentParser, tmp_path: Path) -> list[str]:
    argv: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings and not action.required:
            continue
        if action.choices:
            value = str(next(iter(action.choices)))
        elif action.type is int:
            value = "1"
        elif action.dest in ("path", "file"):
            value = str(tmp_path / "in.csv")
        elif action.dest in ("out", "key_file"):
            value = str(tmp_path / f"out-{len(argv)}")
        else:
            value = "x"
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    return argv


COMMANDS = sorted(name for name, _ in leaves(build_parser()))


def test_the_local_only_commands_exist():
    assert set(COMMANDS) >= LOCAL_ONLY


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_goes_through_the_gateway_at_a_centre(command, ctx, tmp_path,
                                                                monkeypatch, capsys):
    if EXTRA.get(command, []) is None:
        pytest.skip("the sign-in itself")
    import app.cli
    import app.commands.server
    import app.services.opening

    def no_database(*_args, **_kwargs):
        raise AssertionError(f"`hosho {command}` opened a database at a centre")

    monkeypatch.setattr(app.services.opening, "open_context", no_database)
    monkeypatch.setattr(app.cli, "open_context", no_database)
    centre = LoopbackCentre(ctx)
    monkeypatch.setattr(app.commands.server, "remote", lambda _args: centre)
    monkeypatch.setattr(app.commands.server, "_tokens", lambda: {URL: "token"})
    (tmp_path / "in.csv").write_text("受付番号,氏名\nT1,山田\n", encoding="utf-8")
    parser = dict(leaves(build_parser()))[command]
    argv = ["--server", URL, *command.split(), *minimal_argv(parser, tmp_path),
            *EXTRA.get(command, [])]
    old = sys.stdin
    sys.stdin = io.StringIO(STRONG + "\n")
    try:
        code = run(argv, gui=lambda _args: 99)
    finally:
        sys.stdin = old
    err = capsys.readouterr().err
    if command in LOCAL_ONLY:
        assert code == 2 and "refused in centre mode" in err, err
        assert centre.calls == []
        return
    assert centre.calls, f"`hosho {command}` reached no service ({code}: {err})"
    assert "internal error" not in err, err


def _calls_in(function: ast.AST):
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("read", "write") and node.args:
            first = node.args[0]
            name = first.attr if isinstance(first, ast.Attribute) else \
                first.id if isinstance(first, ast.Name) else None
            if name and name != "service":  # desk.py passes the service on
                yield node.func.attr, name


def test_every_service_a_command_names_is_on_the_allow_list():
    allowed = {(entry.kind, key.rsplit(".", 1)[-1]) for key, entry in ALLOWED.items()}
    named = set()
    for module in COMMAND_MODULES:
        for kind, name in _calls_in(ast.parse(module.read_text(encoding="utf-8"))):
            named.add((kind, name))
            assert (kind, name) in allowed, f"{module.name}: {kind} {name} is not allowed"
    assert len(named) > 40  # the walk found the commands' calls


def test_only_the_local_commands_open_a_database_themselves():
    local = {"cmd_demo", "cmd_db_upgrade", "cmd_serve", "cmd_db_seal_secrets", "cmd_backup",
             "cmd_restore", "cmd_db_roles", "desk_of"}
    for module in COMMAND_MODULES:
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            names = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)} | \
                    {a.name for n in ast.walk(function) if isinstance(n, ast.ImportFrom)
                     for a in n.names}
            if names & {"open_context", "resolve_db", "Database"}:
                assert function.name in local, f"{module.name}: {function.name} opens a " \
                                               "database itself"
