"""One app-wide guard on request values PostgreSQL cannot store: 400 instead of a 500.

PostgreSQL has no integer above 2^63-1 (an id of 2^64 ends as a driver error) and no text with
a NUL character in it. `reject_unstorable` runs before every route (installed by `create_app`):
integer parameters (path, query, form, as the route declares them) must fit a bigint, and no
parameter, form field or JSON body string may hold NUL. The error names the parameter.
"""

from __future__ import annotations

import json
import re
import typing
from typing import Any

from fastapi import Request

from app.core.errors import InvalidInputError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_INT_FIELDS: dict[int, frozenset[str]] = {}  # per route (its id): names of integer parameters


async def reject_unstorable(request: Request) -> None:
    """FastAPI dependency: raise InvalidInputError (400) for out-of-range ids and NUL bytes."""
    ints = _int_fields(request.scope.get("route"))
    for key, value in request.path_params.items():
        _check(key, str(value), ints)
    for key, value in request.query_params.multi_items():
        _check(key, value, ints)
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        form = await request.form()  # parsed once; FastAPI reuses it
        for key, value in form.multi_items():
            if isinstance(value, str):
                _check(key, value, ints)
    elif content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()  # cached on the request; FastAPI reads the same bytes
        if b"\\u0000" in body or b"\x00" in body or _has_big_number(body):
            try:
                _check_json(json.loads(body), "body")
            except ValueError:
                return  # not JSON: FastAPI answers that itself


def _check(key: str, value: str, ints: frozenset[str]) -> None:
    if "\x00" in value or "\x00" in key:
        raise InvalidInputError(f"{_name(key)}: contains a NUL character")
    if key in ints:
        _check_int(key, value.strip())


def _check_int(key: str, value: str) -> None:
    digits = value.lstrip("+-")
    if digits.isdigit() and len(digits) >= 19 and not INT64_MIN <= int(value) <= INT64_MAX:
        raise InvalidInputError(f"{_name(key)}: {value[:40]} is out of range "
                                f"(at most {INT64_MAX})")


def _check_json(value: Any, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInputError(f"{where}: contains a NUL character")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise InvalidInputError(f"{where}: {str(value)[:40]} is out of range "
                                    f"(at most {INT64_MAX})")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, where)
            _check_json(item, f"{where}.{_name(key)}" if where != "body" else _name(key))
    elif isinstance(value, list):
        for item in value:
            _check_json(item, where)


def _has_big_number(body: bytes) -> bool:
    """Cheap pre-check: a run of 19 or more digits somewhere in the body."""
    return _LONG_DIGITS.search(body) is not None


def _name(key: str) -> str:
    return key.replace("\x00", "\\x00")[:60]


def _int_fields(route: Any) -> frozenset[str]:
    """Names (aliases) of the route's integer parameters, sub-dependencies included."""
    if route is None:
        return frozenset()
    cached = _INT_FIELDS.get(id(route))
    if cached is None:
        found: set[str] = set()
        stack = [getattr(route, "dependant", None)]
        while stack:
            dependant = stack.pop()
            if dependant is None:
                continue
            for field in (*dependant.path_params, *dependant.query_params,
                          *dependant.body_params):
                if _is_int(getattr(field.field_info, "annotation", None)):
                    found.add(field.alias)
            stack.extend(dependant.dependencies)
        cached = _INT_FIELDS[id(route)] = frozenset(found)
    return cached


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    return any(_is_int(arg) for arg in typing.get_args(annotation))
