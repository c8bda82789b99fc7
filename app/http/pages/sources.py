"""The /sources page: every source with its last sync, counts and failures, "sync now" (in the
background; progress polled by static/jobs.js), and forms that add a folder or a mail account
to sources.toml (an IMAP password goes to a secret file, never into the TOML)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.core.errors import InvalidInputError
from app.http.deps import RuntimeDep
from app.http.rendering import render
from app.services import sources as service

router = APIRouter(include_in_schema=False)


def _page(request: Request, rt: Any, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    return render(request, "sources.html", {
        "title": "Sources", **service.sources_overview(rt), "form": {}, **values},
        status_code=status_code)


@router.get("/sources", response_class=HTMLResponse)
def sources_page(request: Request, rt: RuntimeDep, added: str | None = None) -> HTMLResponse:
    return _page(request, rt, added=added)


@router.post("/sources/{name}/sync")
def sync_now(name: str, rt: RuntimeDep) -> RedirectResponse:
    service.sync_now(rt, name)
    return RedirectResponse("/sources", status_code=303)


def _interval(value: str) -> float | None:
    value = value.strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise InvalidInputError(f"interval_hours: {value!r} is not a number") from exc


@router.post("/sources/add", response_class=HTMLResponse)
def add_source(
    request: Request, rt: RuntimeDep,
    kind: Annotated[str, Form()] = "folder",
    name: Annotated[str, Form()] = "",
    path: Annotated[str, Form()] = "",
    host: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_file: Annotated[str, Form()] = "",
    security: Annotated[str, Form()] = "ssl",
    folders: Annotated[str, Form()] = "",
    interval_hours: Annotated[str, Form()] = "",
    sync: Annotated[str, Form()] = "",
) -> Any:
    """Add the source; on a mistake the page comes back with the form filled in (never the
    password) and the one-line reason."""
    form = {"kind": kind, "name": name, "path": path, "host": host, "username": username,
            "password_file": password_file, "security": security, "folders": folders,
            "interval_hours": interval_hours}
    try:
        hours = _interval(interval_hours)
        if kind == "folder":
            added = service.add_folder_source(rt, name=name, path=path, interval_hours=hours)
        else:
            added = service.add_mail_source(
                rt, name=name, kind=kind, host=host, username=username, password=password,
                password_file=password_file, security=security,
                folders=folders.replace(",", "\n").splitlines(), path=path,
                interval_hours=hours)
    except InvalidInputError as exc:
        return _page(request, rt, status_code=400, error=str(exc), form=form)
    if sync:
        service.sync_now(rt, added["name"])
    return RedirectResponse(f"/sources?added={added['name']}", status_code=303)
