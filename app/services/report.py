"""Scheduled money jobs: build, store and (optionally) e-mail the weekly spending report.

`run_weekly_report(ctx)` is what APScheduler calls (Monday 07:00 local by default, see
`Settings.report_weekday` / `report_time`); the CLI and API build reports through the same
`build_and_store_report`. Mail goes through the `Mailer` seam; `SmtpMailer` is the owner's server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy.dialects.postgresql import insert

from app.core.errors import ConfigError, UpstreamError
from app.core.models import Report
from app.money.periods import Period, previous_week

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.llm.client import ChatClient
    from app.core.config import Settings
    from app.services.runtime import Runtime

log = logging.getLogger(__name__)


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise UpstreamError."""
        ...


@dataclass
class SmtpMailer:
    """The owner's SMTP server (STARTTLS, implicit TLS or plain on a trusted network)."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    security: str = "starttls"  # starttls | ssl | none
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer | None:
        if not settings.smtp_host:
            return None
        if not (settings.smtp_to and (settings.smtp_from or settings.smtp_user)):
            raise ConfigError("HOMERAG_SMTP_HOST is set but HOMERAG_SMTP_TO or HOMERAG_SMTP_FROM "
                              "is missing")
        pw = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
                   password=pw, security=settings.smtp_security)

    def send(self, message: EmailMessage) -> None:
        try:
            if self.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout,
                    context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if self.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.user and self.password:
                    client.login(self.user, self.password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise UpstreamError(f"could not send the report through {self.host}:{self.port}: "
                                f"{exc}") from exc


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


def build_and_store_report(session: Session, period: Period, *, kind: str,
                           chat: ChatClient | None = None, now: datetime | None = None,
                           link_base: str = "") -> tuple[int, dict[str, Any], str, str]:
    """Build the report (with a narrative when `chat` is given), render and store it."""
    from app.money.narrative import write_narrative
    from app.money.render import to_html, to_markdown
    from app.money.report import build_spending_report

    content = build_spending_report(session, period, kind=kind, now=now)
    if chat is not None and content["flags"]:
        content["narrative"] = write_narrative(content, chat)
    markdown = to_markdown(content, link_base=link_base or None)
    html = to_html(content, link_base=link_base)
    return store_report(session, content, markdown=markdown, html=html), content, markdown, html


def report_message(content: dict[str, Any], markdown: str, *, sender: str,
                   recipients: list[str]) -> EmailMessage:
    """Text + HTML alternative; charts as inline (cid:) images, which mail clients show."""
    from app.money.charts import report_charts
    from app.money.render import to_html

    charts = report_charts(content)
    cids = {name: make_msgid(domain="homerag.local") for name in charts}
    html = to_html(content, charts=charts)
    for name, png in charts.items():
        from app.money.charts import data_uri

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


def run_weekly_report(ctx: Runtime, *, now: datetime | None = None,
                      chat: ChatClient | None = None,
                      mailer: Mailer | None = None) -> dict[str, Any]:
    """Build and store last week's report, and mail it when SMTP is configured.

    `chat` defaults to the report LLM endpoint (none configured: deterministic summary only);
    `mailer` to the configured SMTP server. Returns what was done (for logs and the CLI).
    """
    settings = ctx.settings
    local_now = (now or datetime.now(UTC)).astimezone(settings.tz)
    period = previous_week(local_now.date())
    if chat is None:
        chat = ctx.chat_client("report")
    link_base = f"http://{settings.host}:{settings.port}"
    try:  # deadlines in the report come from up-to-date contract terms
        from app.services.contracts import refresh_for_context
    except ImportError:
        pass
    else:
        refresh_for_context(ctx)
    with ctx.db.session() as s:
        report_id, content, markdown, _html = build_and_store_report(
            s, period, kind="week", chat=chat, now=local_now, link_base=link_base)
    result: dict[str, Any] = {"report_id": report_id, "period": period.label,
                              "flags": len(content["flags"]), "emailed": False,
                              "narrative": content["narrative"] is not None}
    mailer = mailer or SmtpMailer.from_settings(settings)
    if mailer is not None:
        recipients = [r.strip() for r in (settings.smtp_to or "").split(",") if r.strip()]
        sender = settings.smtp_from or settings.smtp_user or "homerag@localhost"
        if not recipients:
            raise ConfigError("HOMERAG_SMTP_TO names no recipient for the weekly report")
        mailer.send(report_message(content, markdown, sender=sender, recipients=recipients))
        with ctx.db.session() as s:
            row = s.get(Report, report_id)
            if row is not None:
                row.emailed_at = datetime.now(UTC)
        result["emailed"] = True
    log.info("weekly spending report %s stored (id %s), %s flags, emailed=%s", period.label,
             report_id, result["flags"], result["emailed"])
    return result
