"""ORM models. Import every model module here so `Base.metadata` is complete for Alembic.

Each issue's tables live in their own module (core, bank, mail, contracts, ...).
"""

from app.core.models.base import Base, utcnow
from app.core.models.contracts import Contract
from app.core.models.conversations import Conversation, ConversationTurn
from app.core.models.core import (
    Answer,
    Chunk,
    ChunkEmbedding,
    Document,
    EmbeddingSpace,
    IngestItem,
    IngestRun,
    LexemeFrequency,
    Source,
    SourceItem,
    sparse_postings,
)
from app.core.models.evidence import Evidence
from app.core.models.mail import MessageCopy
from app.core.models.money import Account, Report, Statement, Transaction, TransactionOccurrence
from app.core.models.queue import EmbeddingJob, EmbeddingPending, EmbeddingWorker
from app.core.models.scheduler import SchedulerJob
from app.core.models.users import ApiToken, User, UserSession

__all__ = [
    "Account",
    "Answer",
    "ApiToken",
    "Base",
    "Chunk",
    "ChunkEmbedding",
    "Contract",
    "Conversation",
    "ConversationTurn",
    "Document",
    "EmbeddingJob",
    "EmbeddingPending",
    "EmbeddingSpace",
    "EmbeddingWorker",
    "Evidence",
    "IngestItem",
    "IngestRun",
    "LexemeFrequency",
    "MessageCopy",
    "Report",
    "SchedulerJob",
    "Source",
    "SourceItem",
    "Statement",
    "Transaction",
    "TransactionOccurrence",
    "User",
    "UserSession",
    "sparse_postings",
    "utcnow",
]
