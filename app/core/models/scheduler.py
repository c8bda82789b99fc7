"""The APScheduler job store table, declared here so that Alembic creates and checks it.

APScheduler 3's SQLAlchemyJobStore would otherwise create it on its own, outside the
migrations; its layout is APScheduler's (`apscheduler/jobstores/sqlalchemy.py`).
"""

from __future__ import annotations

from sqlalchemy import Float, LargeBinary, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models.base import Base

JOBS_TABLE = "apscheduler_jobs"


class SchedulerJob(Base):
    """One scheduled job, pickled by APScheduler (`homerag scheduler`)."""

    __tablename__ = JOBS_TABLE

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)
