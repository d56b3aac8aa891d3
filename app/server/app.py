"""The centre server's HTTP interface (FastAPI): sign-in steps and service calls.

A desk signs in (password, then the code or enrolment, then a new password when an
administrator reset it) and gets a session token; then ``POST /call`` names a
service of the allow-list (app.server.allow) and its arguments. The server validates
them against the service's type hints, binds the acting operator from the session
(an actor sent by the desk is dropped), runs the service with its own AppContext
and sends back the result, or the error's class and its Japanese and English text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

import pydantic
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from app.core.clock import DemoClock
from app.core.errors import (
    ConflictError,
    EnvironmentProblem,
    HoshoError,
    MoveNotAllowed,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from app.core.files import written_for_a_desk
from app.remote.codec import decode, encode, error_payload, hints, is_actor_hint
from app.server import jobs as job_stream
from app.server.allow import ALLOWED, READ, UNCHANGING, WRITE, Entry
from app.server.changes import Changes, event_of
from app.server.files import MARK, BodyLimit, FileBinder, Limits, Spool, TooLarge
from app.server.jobs import Jobs
from app.server.threads import limit_threads
from app.services import changes as what_changed
from app.services import operators, second_factor, sessions
from app.services.context import AppContext, SessionEnded, require_role
from app.services.operators import OperatorView

log = logging.getLogger("hosho.server")
MAX_ARGUMENTS = 64
BIGINT = 2**63
# A live stream says something at least this often (seconds): a desk notices a dead
# connection, and the stream notices a server shutting down or a session ended.
KEEP_ALIVE = 1.0
SESSION_RECHECK = 15.0


class SignIn(BaseModel):
    login: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class Code(BaseModel):
    code: str = Field(max_length=64)


class NewPassword(BaseModel):
    old_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)


class Unlock(BaseModel):
    password: str = Field(max_length=1000)
    code: str | None = Field(default=None, max_length=64)


class Call(BaseModel):
    service: str = Field(max_length=120)
    kind: str = Field(pattern="^(read|write)$")
    args: list[Any] = Field(default_factory=list, max_length=MAX_ARGUMENTS)
    kwargs: dict[str, Any] = Field(default_factory=dict, max_length=MAX_ARGUMENTS)
    job: bool = False  # a watched call: progress and the answer as a stream of lines


def _status(exc: HoshoError) -> int:
    for kind, status in ((TooLarge, 413), (SessionEnded, 401), (PermissionDenied, 403),
                         (NotFound, 404), (ConflictError, 409), (MoveNotAllowed, 409),
                         (ValidationError, 422), (EnvironmentProblem, 503)):
        if isinstance(exc, kind):
            return status
    return 400


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _not_allowed(name: str) -> PermissionDenied:
    return PermissionDenied(f"このサービスはサーバー経由では呼べません: {name}",
                            f"This service cannot be called through the server: {name}")


def _window_locked() -> SessionEnded:
    return SessionEnded("操作がない時間が続いたため画面がロックされました。"
                        "パスワードを入力してロックを解除してください。",
                        "The window locked after a period without activity; "
                        "unlock it with your password.")


def _sign_in_pending() -> PermissionDenied:
    return PermissionDenied("サインインが完了していません。", "The sign-in is not complete.")


def bind_arguments(entry: Entry, actor, args: list[Any], kwargs: dict[str, Any],
                   files: FileBinder | None = None) -> tuple[list[Any], dict[str, Any]]:
    """The call's arguments as the service takes them: each validated against its
    type hint; a parameter of type Actor (and a write's actor) is the session's; a
    file parameter of the allow-list takes a file marker only, made a spool path
    (app.server.files), and no other parameter takes one."""
    signature = inspect.signature(entry.service)
    params = list(signature.parameters.values())[1:]  # the context is the server's
    if entry.kind == WRITE:
        params = params[1:]  # the actor: bound below, never from the desk
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise _not_allowed(f"{entry.service.__module__}.{entry.service.__qualname__}")
    try:
        given = signature.replace(parameters=params).bind(*args, **kwargs)
    except TypeError as exc:
        raise ValidationError("arguments", f"引数が合いません: {exc}",
                              f"The arguments do not fit the service: {exc}") from None
    types = hints(entry.service)
    for name, value in list(given.arguments.items()):
        hint = types.get(name, Any)
        if is_actor_hint(hint) or name == "actor":
            given.arguments[name] = actor
            continue
        if name in entry.files:
            if files is None:
                raise _not_allowed(name)
            value = files.bind(name, entry.files[name], value)
        elif isinstance(value, dict) and MARK in value:
            raise ValidationError(name, f"{name} はファイルを取りません。",
                                  f"{name} does not take a file.")
        try:
            given.arguments[name] = decode(hint, value)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in (name, *first.get("loc", ())))
            raise ValidationError(name, f"値が正しくありません（{where}）: {first.get('msg')}",
                                  f"Invalid value for {where}: {first.get('msg')}") from None
        if not _fits(given.arguments[name]):
            raise ValidationError(name, f"値が大きすぎます（{name}）。",
                                  f"Invalid value for {name}: a number out of range.")
    head = [actor] if entry.kind == WRITE else []
    return head + list(given.args), dict(given.kwargs)


def _fits(value: Any, depth: int = 0) -> bool:
    """No whole number beyond what the database holds (BIGINT), however deep: a limit, an
    id or a position past it is a bad value, not the server's bug at the SQL."""
    if isinstance(value, int):
        return -BIGINT <= value < BIGINT
    if depth > 20 or isinstance(value, str | bytes | float | type(None)):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_fits(getattr(value, f.name), depth + 1)
                   for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return all(_fits(k, depth + 1) and _fits(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return all(_fits(v, depth + 1) for v in value)
    return True


def create_app(ctx: AppContext, limits: Limits | None = None) -> FastAPI:
    changes = Changes(ctx.db)
    limits = limits or Limits.from_environment()
    spool, running = Spool(limits), Jobs()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        limit_threads()
        changes.start()
        yield
        changes.stop()

    app = FastAPI(title="Hosho Desk centre server", docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)
    app.state.changes = changes
    app.state.spool, app.state.jobs = spool, running
    app.add_middleware(BodyLimit, limit=limits.call_bytes)
    app.state.server = None  # the uvicorn server, set by app.server.run

    @app.exception_handler(HoshoError)
    async def _hosho_error(_request: Request, exc: HoshoError) -> JSONResponse:
        return JSONResponse({"error": error_payload(exc)}, status_code=_status(exc))

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse({"error": error_payload(_unexpected())}, status_code=500)

    @app.get("/health")
    def health() -> dict[str, str]:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/time")
    def server_time(request: Request) -> dict[str, Any]:
        sessions.bind(ctx, _token(request))
        # "demo": the demo's clock (a demo server): the desk's status bar says so
        return {"now": ctx.clock.now().isoformat(), "demo": isinstance(ctx.clock, DemoClock)}

    def _counted(request: Request, step, *args):
        """A sign-in step, throttled by client address; a refusal counts against it."""
        address = _address(request)
        sessions.check_address(ctx, address)
        try:
            return step(*args)
        except PermissionDenied:
            sessions.count_address_failure(ctx, address)
            raise

    def _after_second_factor(view: OperatorView) -> str:
        return sessions.NEW_PASSWORD if view.must_change_password else sessions.ACTIVE

    @app.post("/auth/sign-in")
    def sign_in(body: SignIn, request: Request) -> dict[str, Any]:
        view = _counted(request, operators.authenticate, ctx, body.login, body.password)
        if view.totp_required:
            stage = sessions.CODE if view.totp_enrolled else sessions.ENROL
        else:
            stage = _after_second_factor(view)
        token = sessions.open_session(ctx, view.id, view.signin_epoch, stage,
                                      _address(request))
        log.info("sign-in step: operator %s, stage %s", view.id, stage)
        return {"token": token, "stage": stage, "operator": encode(view)}

    def _pending(request: Request, stage: str) -> sessions.Bound:
        bound = sessions.bind(ctx, _token(request))
        if bound.stage != stage:
            raise _sign_in_pending()
        return bound

    @app.post("/auth/code")
    def code(body: Code, request: Request) -> dict[str, Any]:
        bound = _pending(request, sessions.CODE)
        view = _counted(request, second_factor.verify_sign_in, ctx,
                        bound.actor.operator_id, body.code)
        stage = _after_second_factor(view)
        sessions.advance(ctx, bound.session_id, stage, view.signin_epoch)
        return {"stage": stage, "operator": encode(view)}

    @app.post("/auth/enrol/begin")
    def enrol_begin(request: Request) -> dict[str, Any]:
        bound = _pending(request, sessions.ENROL)
        return {"enrolment": encode(second_factor.begin_enrolment(ctx, bound.actor))}

    @app.post("/auth/enrol/confirm")
    def enrol_confirm(body: Code, request: Request) -> dict[str, Any]:
        bound = _pending(request, sessions.ENROL)
        codes = _counted(request, second_factor.confirm_enrolment, ctx, bound.actor,
                         body.code)
        view = _operator(bound.actor.operator_id)
        stage = _after_second_factor(view)
        sessions.advance(ctx, bound.session_id, stage, view.signin_epoch)
        return {"stage": stage, "recovery_codes": codes, "operator": encode(view)}

    def _operator(operator_id: int) -> OperatorView:
        return next(v for v in operators.list_operators(ctx) if v.id == operator_id)

    @app.post("/auth/new-password")
    def new_password(body: NewPassword, request: Request) -> dict[str, Any]:
        bound = _pending(request, sessions.NEW_PASSWORD)
        view = operators.change_password(ctx, bound.actor, body.old_password,
                                         body.new_password)
        sessions.advance(ctx, bound.session_id, sessions.ACTIVE, view.signin_epoch)
        return {"stage": sessions.ACTIVE, "operator": encode(view)}

    @app.post("/auth/unlock")
    def unlock(body: Unlock, request: Request) -> dict[str, Any]:
        bound = _pending(request, sessions.ACTIVE)
        view = _counted(request, second_factor.unlock_session, ctx, bound.actor,
                        body.password, body.code)
        sessions.advance(ctx, bound.session_id, sessions.ACTIVE, view.signin_epoch)
        return {"operator": encode(view)}

    @app.post("/auth/sign-out")
    def sign_out(request: Request) -> dict[str, str]:
        try:
            bound = sessions.bind(ctx, _token(request))
        except SessionEnded:
            return {"status": "ended"}
        sessions.end(ctx, bound.session_id, "signed_out")
        spool.end_session(_token(request))  # its uploads and downloads go with it
        return {"status": "ended"}

    def _active(request: Request) -> sessions.Bound:
        bound = sessions.bind(ctx, _token(request))
        if bound.stage != sessions.ACTIVE:
            raise _sign_in_pending()
        if bound.locked:
            raise _window_locked()
        return bound

    @app.post("/call")
    def call(body: Call, request: Request):
        bound = _active(request)
        entry = ALLOWED.get(body.service)
        if entry is None:
            raise _not_allowed(body.service)
        if body.kind != entry.kind:
            raise ValidationError("kind", f"{body.service} は {entry.kind} で呼んでください。",
                                  f"{body.service} is a {entry.kind}, not a {body.kind}.")
        if entry.roles is not None:
            require_role(bound.actor, *sorted(entry.roles))
        token = _token(request)
        files = FileBinder(spool, token) if entry.files else None
        try:
            args, kwargs = bind_arguments(entry, bound.actor, body.args, body.kwargs, files)
        except BaseException:
            if files is not None:
                files.done(succeeded=False)
            raise
        if not body.job:
            return _run(entry, body.service, bound, args, kwargs, files)
        job_id, watch = running.new(spool.folder(token))
        kwargs = kwargs | _watch_keywords(entry, watch)

        def run_job() -> dict[str, Any]:
            try:
                return _run(entry, body.service, bound, args, kwargs, files)
            except HoshoError as exc:
                return {"error": error_payload(exc), "status": _status(exc)}
            except Exception as exc:
                log.error("internal error in a job: %s", type(exc).__name__, exc_info=exc)
                return {"error": error_payload(_unexpected()), "status": 500}
            finally:
                running.finished(job_id)

        gone = files.discard_outputs if files is not None else (lambda: None)
        return StreamingResponse(job_stream.stream(job_id, watch, run_job, gone),
                                 media_type="application/x-ndjson",
                                 headers={"Cache-Control": "no-store"})

    def _run(entry: Entry, name: str, bound: sessions.Bound, args, kwargs,
             files: FileBinder | None) -> dict[str, Any]:
        started, succeeded = time.perf_counter(), False
        try:
            with what_changed.recording() as recorder, \
                    written_for_a_desk(files.for_desk() if files is not None else {}):
                result = entry.service(ctx, *args, **kwargs)  # the desk refreshes from it
            succeeded = True
        finally:
            log.info("%s %s by operator %s in %.0f ms", entry.kind, name,
                     bound.actor.operator_id, (time.perf_counter() - started) * 1000)
            if files is not None:
                files.done(succeeded)
        if entry.kind == WRITE and name not in UNCHANGING:
            _announce(entry, name, args, kwargs, result, recorder.value, bound.session_id)
        answer = {"result": encode(result), "changed": recorder.value.as_dict()}
        if files is not None:
            answer["files"] = files.offered()
        return answer

    def _announce(entry: Entry, name: str, args, kwargs, result, changed, origin) -> None:
        try:
            named = inspect.signature(entry.service).bind(ctx, *args, **kwargs).arguments
            changes.publish(event_of(name, named, result, changed, origin))
        except Exception:  # the change is made: a missed event must not undo the answer
            log.exception("change event not sent for %s", name)

    # Files and jobs (app.server.files, app.server.jobs) -------------------------------------
    @app.post("/files")
    async def upload(request: Request):
        token = _token(request)
        await run_in_threadpool(_active, request)
        declared = request.headers.get("content-length")
        try:
            return await spool.receive(token, unquote(request.headers.get("x-file-name", "")),
                                       request.stream(),
                                       int(declared) if declared and declared.isdigit()
                                       else None)
        except ClientDisconnect:
            log.info("an upload was cut off; nothing kept")
            return JSONResponse({"status": "cut off"}, status_code=400)
        except TooLarge as exc:
            # The rest of the body is not read: the connection closes after the answer
            # (else a desk still sending would wait on a server no longer reading).
            return JSONResponse({"error": error_payload(exc)}, status_code=413,
                                headers={"Connection": "close"})

    @app.get("/files/out/{out_id}/{name}")
    def download(out_id: str, name: str, request: Request) -> FileResponse:
        # The session's, signed in; not refused by the idle lock: the call that wrote
        # it was allowed, and a long batch may end after the window locked.
        sessions.bind(ctx, _token(request))
        path = spool.output_file(_token(request), out_id, name)
        return FileResponse(path, media_type="application/octet-stream",
                            headers={"Cache-Control": "no-store"},
                            background=BackgroundTask(path.unlink, missing_ok=True))

    @app.delete("/files/out/{out_id}")
    def discard(out_id: str, request: Request) -> dict[str, str]:
        sessions.bind(ctx, _token(request))
        spool.discard(_token(request), "out", out_id)
        return {"status": "removed"}

    @app.post("/jobs/{job_id}/cancel")
    def cancel_job(job_id: str, request: Request) -> dict[str, str]:
        sessions.bind(ctx, _token(request))
        return {"status": running.cancel(spool.folder(_token(request)), job_id)}

    @app.get("/jobs/{job_id}")
    def job_progress(job_id: str, request: Request) -> dict[str, Any]:
        sessions.bind(ctx, _token(request))
        done, total = running.progress(spool.folder(_token(request)), job_id)
        return {"progress": [done, total]}

    @app.get("/events")
    async def events(request: Request) -> StreamingResponse:
        token = _token(request)
        bound = await run_in_threadpool(sessions.bind, ctx, token)
        queue = changes.subscribe(bound.session_id)  # all but this desk's own writes

        async def stream():
            checked = time.monotonic()
            try:
                yield ": connected\n\n"
                while not _closing(request):
                    try:
                        event = await asyncio.wait_for(queue.get(), timeout=KEEP_ALIVE)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                    else:
                        yield f"data: {json.dumps(event)}\n\n"
                    if time.monotonic() - checked > SESSION_RECHECK:
                        checked = time.monotonic()
                        await run_in_threadpool(sessions.bind, ctx, token)
            except SessionEnded:
                return
            finally:
                changes.unsubscribe(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    return app


def _unexpected() -> EnvironmentProblem:
    return EnvironmentProblem("サーバーで予期しないエラーが起きました。管理者に連絡してください。",
                              "An unexpected error occurred at the server; tell the "
                              "administrator.")


def _watch_keywords(entry: Entry, watch) -> dict[str, Any]:
    """The watch as the keywords the service takes (not every service takes both)."""
    params = inspect.signature(entry.service).parameters
    return {k: v for k, v in watch.keywords().items() if k in params}


def _closing(request: Request) -> bool:
    server = request.app.state.server
    return server is not None and server.should_exit


__all__ = ["READ", "WRITE", "bind_arguments", "create_app"]
