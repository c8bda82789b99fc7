"""ORM models. Import every model module here so `Base.metadata` is complete for Alembic.

Each issue's tables live in their own module (core, bank, mail, contracts, ...).
"""

from app.models.bank import Account, Report, Statement, Transaction, TransactionOccurrence
from app.models.base import Base, utcnow
from app.models.contracts import Contract
from app.models.core import (
    Answer,
    Chunk,
    ChunkEmbedding,
    Document,
    EmbeddingSpace,
    IngestItem,
    IngestRun,
    Source,
    SourceItem,
)
from app.models.mail import MessageCopy
from app.models.scheduler import SchedulerJob

__all__ = [
    "Account",
    "Answer",
    "Base",
    "Chunk",
    "ChunkEmbedding",
    "Contract",
    "Document",
    "EmbeddingSpace",
    "IngestItem",
    "IngestRun",
    "MessageCopy",
    "Report",
    "SchedulerJob",
    "Source",
    "SourceItem",
    "Statement",
    "Transaction",
    "TransactionOccurrence",
    "utcnow",
]
