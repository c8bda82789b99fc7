"""Stored spending reports: build, render and keep one per (kind, period) (rebuilding replaces
it), list them, fetch one, and compose the report e-mail (text + HTML with inline charts)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.core.models import Report

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.chat import ChatClient
    from app.money.periods import Period


def store_report(session: Session, content: dict[str, Any], *, markdown: str, html: str) -> int:
    """Insert or replace the report of (kind, period); returns its id."""
    ins = insert(Report).values(
        kind=content["kind"], period=content["period"],
        period_start=datetime.fromisoformat(content["start"]).date(),
        period_end=datetime.fromisoformat(content["end"]).date(),
        content=content, markdown=markdown, html=html,
    )
    upsert = ins.on_conflict_do_update(
        constraint="uq_reports_kind_period",
        set_={"content": ins.excluded.content, "markdown": ins.excluded.markdown,
              "html": ins.excluded.html, "created_at": ins.excluded.created_at,
              "emailed_at": None},
    ).returning(Report.id)
    return int(session.execute(upsert).scalar_one())


def build_content(session: Session, period: Period, *, kind: str, chat: ChatClient | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """The report content, with a narrative when `chat` is given and something was flagged."""
    from app.money.narrative import write_narrative
    from app.money.report import build_spending_report

    content = build_spending_report(session, period, kind=kind, now=now)
    if chat is not None and content["flags"]:
        content["narrative"] = write_narrative(content, chat)
    return content


def build_and_store_report(session: Session, period: Period, *, kind: str,
                           chat: ChatClient | None = None, now: datetime | None = None,
                           link_base: str = "") -> tuple[int, dict[str, Any], str, str]:
    """Build the report, render it (Markdown, HTML) and store it: (id, content, md, html)."""
    from app.money.render import to_html, to_markdown

    content = build_content(session, period, kind=kind, chat=chat, now=now)
    markdown = to_markdown(content, link_base=link_base or None)
    html = to_html(content, link_base=link_base)
    return store_report(session, content, markdown=markdown, html=html), content, markdown, html


def report_summary(row: Report) -> dict[str, Any]:
    """A stored report in listings (its content is fetched separately)."""
    return {"id": row.id, "kind": row.kind, "period": row.period,
            "start": str(row.period_start), "end": str(row.period_end),
            "created_at": row.created_at.isoformat(),
            "emailed_at": row.emailed_at.isoformat() if row.emailed_at else None,
            "flags": len(row.content.get("flags", [])), "totals": row.content.get("totals", [])}


def stored_reports(session: Session, *, limit: int) -> list[Report]:
    """Newest period first."""
    return list(session.scalars(select(Report).order_by(Report.period_end.desc(),
                                                        Report.id.desc()).limit(limit)))


def report_message(content: dict[str, Any], markdown: str, *, sender: str,
                   recipients: list[str]) -> EmailMessage:
    """Text + HTML alternative; charts as inline (cid:) images, which mail clients show."""
    from app.money.charts import data_uri, report_charts
    from app.money.render import to_html

    charts = report_charts(content)
    cids = {name: make_msgid(domain="homerag.local") for name in charts}
    html = to_html(content, charts=charts)
    for name, png in charts.items():
        html = html.replace(data_uri(png), f"cid:{cids[name][1:-1]}")
    msg = EmailMessage()
    flags = len(content["flags"])
    msg["Subject"] = (f"homerag spending report {content['period']}: "
                      f"{flags} item{'s' if flags != 1 else ''} to look at")
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    msg.set_content(markdown)
    msg.add_alternative(html, subtype="html")
    # After add_alternative the message is multipart/alternative: a list of parts.
    html_part = cast("list[EmailMessage]", msg.get_payload())[1]
    for name, png in charts.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=cids[name],
                              filename=f"{name}.png")
    return msg
