"""A real centre server on loopback (uvicorn in a thread, on a free port) in front of
the test's database and clock, and desks that sign in at it."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import pytest

from app.remote.gateway import RemoteGateway
from app.server.run import make_server
from tests.conftest import PASSWORD, step_up_code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(ctx):
    """The server's URL. It runs the services with the test's AppContext (and so the
    test's fixed clock)."""
    with running_server(ctx) as url:
        yield url


@contextmanager
def running_server(ctx, **options):
    """``options``: make_server's (``limits=`` for the spool and the size limits)."""
    port = free_port()
    uvicorn_server = make_server(ctx, "127.0.0.1", port, **options)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    for _ in range(500):  # waiting for start-up, not measuring it
        if uvicorn_server.started:
            break
        time.sleep(0.01)
    else:
        raise RuntimeError("the test server did not start")
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join()


class Values:
    """A gateway whose writes answer the service's value, as the tests compare values
    (both gateways answer ``Outcome(value, changed)``; the last ``changed`` is kept)."""

    def __init__(self, gateway) -> None:
        self.gateway, self.changed = gateway, None

    def write(self, service, *args, **kwargs):
        outcome = self.gateway.write(service, *args, **kwargs)
        self.changed = outcome.changed
        return outcome.value

    def __getattr__(self, name: str):
        return getattr(self.gateway, name)


def sign_in(ctx, url: str, staff: dict, login: str) -> Values:
    """A desk signed in as ``login``: password, then the authenticator's code."""
    desk = RemoteGateway(url)
    view = desk.sign_in(login, PASSWORD)
    if desk.stage == "code":
        desk.verify_code(step_up_code(ctx, view.as_actor()))
    assert desk.stage == "active"
    return Values(desk)


@pytest.fixture
def desks(ctx, server, staff):
    """desks("sv1") signs a desk in; all are closed after the test."""
    made: list[RemoteGateway] = []

    def open_desk(login: str) -> RemoteGateway:
        desk = sign_in(ctx, server, staff, login)
        made.append(desk)
        return desk

    yield open_desk
    for desk in made:
        desk.close()
