"""Spending-report use cases: build (and keep) a weekly or monthly report, list and show the
stored ones, render them, and the scheduler's weekly job that builds and e-mails last week's.

`homerag report spending`, `/api/reports...`, the /reports pages and the scheduler
(`run_weekly_report(rt)`, Monday 07:00 local by default, see `Settings.report_weekday` /
`report_time`) all call these. Mail goes through the `Mailer` seam; `SmtpMailer` is the owner's
server (HOMERAG_SMTP_*). The content and its rendering live in `app.money`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from app.core.errors import ConfigError, InvalidInputError, NotFoundError, UpstreamError
from app.services.contracts import local_today

if TYPE_CHECKING:
    from email.message import EmailMessage

    from app.core.chat import ChatClient
    from app.core.config import Settings
    from app.money.periods import Period
    from app.services.runtime import Runtime

log = logging.getLogger(__name__)

FORMATS = ("markdown", "html", "json")
DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 500


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


def build_and_store_report(session: Any, period: Period, *, kind: str,
                           chat: ChatClient | None = None, now: datetime | None = None,
                           link_base: str = "") -> tuple[int, dict[str, Any], str, str]:
    """In a session the caller holds (benchmarks, tests): see `app.money.archive`."""
    from app.money.archive import build_and_store_report as build

    return build(session, period, kind=kind, chat=chat, now=now, link_base=link_base)


def report_period(*, week: str | None = None, month: str | None = None,
                  period: str | None = None, today: date) -> tuple[Period, str]:
    """(period, "week" | "month") from one of: an ISO week ("2026-W47"), a month ("2026-10"),
    or `period`, either of those; nothing given: the last complete week before `today`."""
    from app.money.periods import parse_month, parse_week, previous_week

    given = [v.strip() for v in (week, month, period) if v and v.strip()]
    if len(given) > 1:
        raise InvalidInputError("give a week or a month, not both")
    if week and week.strip():
        return parse_week(week), "week"
    if month and month.strip():
        return parse_month(month), "month"
    if not given:
        return previous_week(today), "week"
    text = given[0]
    if "-W" in text.upper():
        return parse_week(text), "week"
    if len(text) == 7 and text[4] == "-":
        return parse_month(text), "month"
    raise InvalidInputError(f"period must look like 2026-W47 or 2026-10, not {text!r}")


@dataclass
class BuiltReport:
    """A report just built: its id when stored, the content, and its renderings."""

    id: int | None
    content: dict[str, Any]
    markdown: str
    html: str | None = None  # rendered on demand when not stored

    def render(self, fmt: str) -> str:
        """The report as Markdown, a standalone HTML page with charts, or JSON."""
        if fmt == "html":
            if self.html is None:
                self.html = render_report(self.content, "html")
            return self.html
        if fmt == "markdown":
            return self.markdown
        return render_report(self.content, fmt)


def render_report(content: dict[str, Any], fmt: str, *, link_base: str = "") -> str:
    """Markdown, a standalone HTML page (charts embedded) or JSON of a report's content."""
    from app.money.render import to_html, to_markdown

    if fmt == "markdown":
        return to_markdown(content, link_base=link_base or None)
    if fmt == "html":
        return to_html(content, link_base=link_base)
    if fmt == "json":
        import json

        return json.dumps(content, indent=2, ensure_ascii=False)
    raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def _link_base(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.port}"


def build_report(rt: Runtime, *, week: str | None = None, month: str | None = None,
                 period: str | None = None, llm: bool = False, store: bool = True,
                 now: datetime | None = None) -> BuiltReport:
    """Build the spending report of a week or month (default: last complete week); with `llm`,
    add a narrative from the report LLM (only when something was flagged); with `store`, keep
    it (replacing an earlier one of the same period)."""
    from app.money.archive import build_and_store_report as build_and_store
    from app.money.archive import build_content

    p, kind = report_period(week=week, month=month, period=period, today=local_today(rt))
    chat = rt.chat_client("report") if llm else None
    link_base = _link_base(rt.settings)
    with rt.db.session() as s:
        if store:
            report_id, content, markdown, html = build_and_store(
                s, p, kind=kind, chat=chat, now=now, link_base=link_base)
            return BuiltReport(report_id, content, markdown, html)
        content = build_content(s, p, kind=kind, chat=chat, now=now)
    return BuiltReport(None, content, render_report(content, "markdown", link_base=link_base))


def list_reports(rt: Runtime, *, limit: int = DEFAULT_LIST_LIMIT) -> list[dict[str, Any]]:
    """Stored reports, newest period first (summaries: totals and the number of flags)."""
    from app.money.archive import report_summary, stored_reports

    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidInputError(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}")
    with rt.db.session() as s:
        return [report_summary(r) for r in stored_reports(s, limit=limit)]


def get_report(rt: Runtime, report_id: int) -> dict[str, Any]:
    """One stored report: its summary and its content."""
    from app.core.models import Report
    from app.money.archive import report_summary

    with rt.db.session() as s:
        row = s.get(Report, report_id)
        if row is None:
            raise NotFoundError(f"report {report_id} does not exist")
        return {**report_summary(row), "content": row.content}


@dataclass(frozen=True, slots=True)
class ReportView:
    """A stored report for its web page: the sections as HTML (escaped, charts inline)."""

    id: int
    period: str
    emailed_at: datetime | None
    content: dict[str, Any]
    body_html: str


def report_view(rt: Runtime, report_id: int) -> ReportView:
    from app.core.models import Report
    from app.money.charts import report_charts
    from app.money.render import report_body_html

    with rt.db.session() as s:
        row = s.get(Report, report_id)
        if row is None:
            raise NotFoundError(f"report {report_id} does not exist")
        body = report_body_html(row.content, charts=report_charts(row.content))
        return ReportView(row.id, row.period, row.emailed_at, row.content, body)


def run_weekly_report(rt: Runtime, *, now: datetime | None = None,
                      chat: ChatClient | None = None,
                      mailer: Mailer | None = None) -> dict[str, Any]:
    """Build and store last week's report, and mail it when SMTP is configured.

    Contract terms are refreshed first (the report lists deadlines). `chat` defaults to the
    report LLM endpoint (none configured: deterministic summary only); `mailer` to the
    configured SMTP server. Returns what was done (for logs and the CLI).
    """
    from app.core.models import Report
    from app.money.archive import build_and_store_report as build_and_store
    from app.money.archive import report_message
    from app.money.periods import previous_week
    from app.services.contracts import refresh_contracts

    settings = rt.settings
    local_now = (now or datetime.now(UTC)).astimezone(settings.tz)
    period = previous_week(local_now.date())
    if chat is None:
        chat = rt.chat_client("report")
    refresh_contracts(rt, today=local_now.date())
    with rt.db.session() as s:
        report_id, content, markdown, _html = build_and_store(
            s, period, kind="week", chat=chat, now=local_now, link_base=_link_base(settings))
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
        with rt.db.session() as s:
            row = s.get(Report, report_id)
            if row is not None:
                row.emailed_at = datetime.now(UTC)
        result["emailed"] = True
    log.info("weekly spending report %s stored (id %s), %s flags, emailed=%s", period.label,
             report_id, result["flags"], result["emailed"])
    return result


# -- browsing periods ------------------------------------------------------------------------------
def adjacent_periods(label: str) -> tuple[str, str]:
    """The period before and after a week ("2026-W47") or month ("2026-10") label."""
    from datetime import timedelta

    from app.money.periods import parse_month, parse_week

    if "-W" in label.upper():
        p = parse_week(label)
        before, after = p.start - timedelta(days=7), p.start + timedelta(days=7)
        return (f"{before.isocalendar()[0]:04d}-W{before.isocalendar()[1]:02d}",
                f"{after.isocalendar()[0]:04d}-W{after.isocalendar()[1]:02d}")
    p = parse_month(label)
    before = p.start - timedelta(days=1)
    after = p.end + timedelta(days=1)
    return f"{before.year:04d}-{before.month:02d}", f"{after.year:04d}-{after.month:02d}"


@dataclass(frozen=True, slots=True)
class PeriodReport:
    """The report of one period for the browser: the stored one when there is one, else one
    built on the fly (not kept until the owner asks)."""

    id: int | None
    period: str
    kind: str
    content: dict[str, Any]
    body_html: str
    previous: str
    next: str


def period_report(rt: Runtime, *, week: str | None = None, month: str | None = None,
                  period: str | None = None) -> PeriodReport:
    """The report of a week or month, stored or built now without storing it."""
    from sqlalchemy import select

    from app.core.models import Report
    from app.money.charts import report_charts
    from app.money.render import report_body_html

    p, kind = report_period(week=week, month=month, period=period, today=local_today(rt))
    with rt.db.session() as s:
        row = s.scalar(select(Report).where(Report.kind == f"spending-{kind}",
                                            Report.period == p.label))
        stored = (row.id, row.content) if row is not None else None
    if stored is None:
        content = build_report(rt, period=p.label, store=False).content
        report_id = None
    else:
        report_id, content = stored
    before, after = adjacent_periods(p.label)
    return PeriodReport(report_id, p.label, kind, content,
                        report_body_html(content, charts=report_charts(content)), before, after)


def default_periods(rt: Runtime) -> tuple[str, str]:
    """The period pickers' defaults: last month and last week (owner's time zone)."""
    from datetime import timedelta

    from app.money.periods import previous_week

    today = local_today(rt)
    last_month = today.replace(day=1) - timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}", previous_week(today).label
