"""Values over the wire between a desk and the centre server, both ways.

Nothing on the wire names a class: each side rebuilds what it receives from the type
hints of the service function both sides know. The server validates a desk's
arguments against the parameters' hints (so a desk cannot send what the function
does not take); the desk rebuilds the result from the return hint, so that a page
gets the same records (the dataclasses of app.services.views, payouts, …) as in
process. Errors travel as their class name and text, and come back as the same
class, from the classes of app.core.errors and their subclasses only.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from app.core.errors import EnvironmentProblem, HoshoError, ValidationError
from app.domain.roles import Actor

# Modules whose error classes a desk must know to rebuild them (their classes
# subclass HoshoError, so importing them registers them).
ERROR_MODULES = ("app.services.second_factor", "app.services.context",
                 "app.services.settings", "app.services.intake", "app.services.imports",
                 "app.services.refunds_intake", "app.services.audit_log",
                 "app.services.checkpoints", "app.letters.errors",
                 "app.importers.textfile", "app.importers.columns")


def encode(value: Any) -> Any:
    """Plain JSON: dataclasses as objects, enums as their values, dates in ISO form."""
    return to_jsonable_python(value)


@cache
def hints(service: Callable[..., Any]) -> dict[str, Any]:
    """The function's resolved type hints; a hint that cannot be resolved (a name
    imported for type checking only) is Any, and travels unvalidated."""
    try:
        return typing.get_type_hints(service)
    except (NameError, TypeError):
        namespace = getattr(service, "__globals__", {})
        resolved = {}
        for name, hint in getattr(service, "__annotations__", {}).items():
            try:
                resolved[name] = eval(hint, namespace) if isinstance(hint, str) else hint
            except Exception:
                resolved[name] = Any
        return resolved


@lru_cache(maxsize=2048)
def _adapter(hint: Any) -> TypeAdapter:
    return TypeAdapter(hint)


def decode(hint: Any, data: Any) -> Any:
    """``data`` (plain JSON) rebuilt as ``hint`` says: a pydantic validation."""
    if hint is Any or hint is inspect.Parameter.empty:
        return data
    return _adapter(hint).validate_python(data)


def decode_result(service: Callable[..., Any], data: Any) -> Any:
    return decode(hints(service).get("return", Any), data)


def is_actor_hint(hint: Any) -> bool:
    """``Actor`` or ``Actor | None``: a parameter the server fills from its session."""
    if hint is Actor:
        return True
    return Actor in typing.get_args(hint)


# Errors -------------------------------------------------------------------------------

def error_payload(exc: HoshoError) -> dict[str, Any]:
    cls = type(exc)
    extra = {}
    for key, value in vars(exc).items():
        if key in ("ja", "en") or key.startswith("_"):
            continue
        try:
            extra[key] = encode(value)
        except Exception:
            continue
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "ja": exc.ja, "en": exc.en,
            "extra": extra}


@lru_cache(maxsize=1)
def error_classes() -> dict[str, type[HoshoError]]:
    for module in ERROR_MODULES:
        importlib.import_module(module)
    found: dict[str, type[HoshoError]] = {}
    pending = [HoshoError]
    while pending:
        cls = pending.pop()
        found[f"{cls.__module__}.{cls.__qualname__}"] = cls
        pending.extend(cls.__subclasses__())
    return found


def rebuild_error(payload: dict[str, Any]) -> HoshoError:
    """The same class with the same text; an unknown class name becomes the nearest
    thing a desk can show (an EnvironmentProblem with the server's text)."""
    ja, en = str(payload.get("ja", "")), str(payload.get("en", ""))
    cls = error_classes().get(str(payload.get("class", "")), EnvironmentProblem)
    exc = cls.__new__(cls)
    HoshoError.__init__(exc, ja, en)
    extra = payload.get("extra") or {}
    if isinstance(extra, dict):
        for key, value in extra.items():
            if isinstance(key, str) and not key.startswith("_"):
                setattr(exc, key, value)
    if isinstance(exc, ValidationError) and not hasattr(exc, "field"):
        exc.field = ""
    return exc
