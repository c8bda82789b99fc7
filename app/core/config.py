"""Settings: one pydantic-settings class read from HOMERAG_* variables and an optional .env.

Nothing here runs at import time; `get_settings()` builds (and caches) the object on first call,
and components receive the values they need as arguments.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.errors import ConfigError

# Privacy: libraries below us phone home unless told not to. Set before any of them is imported.
PRIVACY_ENV = {
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_privacy_env() -> None:
    """Switch off telemetry of third-party libraries (idempotent, keeps explicit user values)."""
    for key, value in PRIVACY_ENV.items():
        os.environ.setdefault(key, value)


def default_data_dir() -> Path:
    import platformdirs

    path = Path(platformdirs.user_data_dir("homerag", appauthor=False))
    if os.name == "posix" and os.geteuid() == 0 and not path.exists():
        # As root the per-user folder is under /root, which the embedded PostgreSQL's own
        # system user cannot reach and homerag will not open (app/core/db.py): a system folder.
        return Path("/var/lib/homerag")
    return path


EmbedderName = Literal["auto", "bge-m3", "lexical-hash", "sentence-transformers"]


class Settings(BaseSettings):
    """All configuration. Environment variables are HOMERAG_<FIELD> (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="HOMERAG_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # -- storage ------------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL (with pgvector). Unset: an embedded PostgreSQL in data_dir.",
    )
    data_dir: Path = Field(default_factory=default_data_dir, description="Embedded DB, originals.")
    keep_originals: bool = Field(
        default=True, description="Keep a content-addressed copy of every ingested file."
    )

    # -- ingest -------------------------------------------------------------------------------
    sources_file: Path | None = Field(
        default=None, description="TOML file listing named sources (default: data_dir/sources.toml)."
    )
    chunk_tokens: int = Field(default=512, ge=64, le=4096)
    chunk_overlap: int = Field(default=64, ge=0, le=1024)
    sync_interval_hours: float = Field(default=4.0, gt=0)
    max_file_mb: float = Field(default=200.0, gt=0, description="Larger files are skipped.")
    max_upload_mb: float = Field(
        default=200.0, gt=0, description="Largest file the web upload accepts (per file).")
    # Parsing runs in worker processes (ingest/workers.py): a file past either budget fails alone.
    ingest_workers: int | None = Field(
        default=None, ge=0, description="Parser processes (default: one per core; 0: "
        "parse in the ingest process itself, without budgets).")
    parse_timeout_s: float = Field(default=60.0, ge=0, description="Wall-clock seconds one file "
                                   "(with its attachments) may take to parse (0: no limit).")
    parse_memory_mb: int = Field(default=2048, ge=0, description="Memory one parse may add, in "
                                 "MB (0: no limit).")
    pg_shared_buffers: str = Field(
        default="auto",
        description="The embedded PostgreSQL's buffer cache: auto (a quarter of the memory, "
                    "128MB-8GB), a size such as 4GB, or off (PostgreSQL's own configuration).",
    )
    bulk_index_min_items: int = Field(
        default=2000, ge=0,
        description="New documents after which a large import builds its search index at the end "
                    "instead of keeping it current (0: never).",
    )
    # Bounds on expansion while parsing (ingest/limits.py); a breach fails that one file.
    max_unpacked_mb: float = Field(
        default=200.0, gt=0, description="A zip-based document (or a message's attachments) "
        "unpacking to more is refused.")
    max_compression_ratio: float = Field(
        default=100.0, ge=2, description="Zip members expanding more than this many times are "
        "refused (members under 1 MB unpacked are exempt).")
    max_parts: int = Field(default=10_000, ge=10, description="Members of a zip, parts of a "
                           "MIME message.")
    max_attachments: int = Field(default=100, ge=1, description="Attachments read per message.")
    max_attachment_mb: float = Field(default=50.0, gt=0, description="Larger attachments are "
                                     "listed as failed; the message is indexed.")
    max_nesting: int = Field(default=50, ge=2, le=100, description="MIME parts and attached "
                             "messages nested deeper fail the message.")
    max_html_depth: int = Field(default=200, ge=16, le=240, description="Deeper HTML is "
                                "flattened (its text kept).")
    max_header_chars: int = Field(default=2000, ge=100, description="Header and metadata "
                                  "values are cut to this length.")
    max_sheet_cells: int = Field(default=10_000_000, ge=1000, description="Workbooks spanning "
                                 "more cells (rows x columns) are refused.")
    max_image_megapixels: float = Field(default=120.0, gt=0, description="Larger images are "
                                        "refused; PDF pages are rendered for OCR below it.")

    # -- embedding ----------------------------------------------------------------------------
    embedder: EmbedderName = "auto"
    embed_model: str = Field(default="BAAI/bge-m3", description="Hub id or local path of BGE-M3.")
    embed_device: str = Field(default="auto", description="cpu, cuda, cuda:1, ... or auto.")
    embed_precision: Literal["fp16", "bf16", "fp32"] = "fp16"
    embed_batch_size: int = Field(default=32, ge=1, le=4096)
    embed_max_length: int = Field(default=8192, ge=16, le=8192)
    embed_backend: Literal["fast", "flag"] = Field(
        default="fast", description="fast: homerag's GPU path; flag: FlagEmbedding (reference)."
    )
    # Embedding queue (ingest/queue.py): ingest stores chunks without vectors and `homerag
    # worker` processes (any host, any GPU) embed them; off: ingest embeds in-process.
    embed_queue: bool = Field(default=False, description="Leave embedding to `homerag worker`.")
    embed_lease_s: float = Field(default=120.0, ge=1, le=86400, description="A worker's claim "
                                 "on a batch; renewed while it lives, taken over when it dies.")
    embed_max_attempts: int = Field(default=5, ge=1, le=100, description="Tries of one text "
                                    "before it is listed as failed.")

    # -- retrieval ----------------------------------------------------------------------------
    top_k: int = Field(default=8, ge=1, le=100)
    candidates: int = Field(default=60, ge=5, le=1000, description="Per-retriever candidates.")
    rrf_k: int = Field(default=60, ge=1)
    # Shortlist re-scoring (app/retrieval/rerank.py): BGE-M3 dense/sparse/ColBERT weights (the
    # authors' 0.4/0.2/0.4) and the optional cross-encoder (auto: on when its weights are local).
    colbert_rescore: bool = True
    rescore_weight_dense: float = Field(default=0.4, ge=0)
    rescore_weight_sparse: float = Field(default=0.2, ge=0)
    rescore_weight_colbert: float = Field(default=0.4, ge=0)
    rerank: Literal["auto", "on", "off"] = "auto"
    rerank_model: str = "BAAI/bge-reranker-v2-m3"

    # -- answering (LLM) ----------------------------------------------------------------------
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint (vLLM).")
    llm_model: str = "MiniMaxAI/MiniMax-M2.1"
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(default=60.0, gt=0)
    llm_max_tokens: int = Field(default=1024, ge=16)
    llm_temperature: float = Field(default=0.2, ge=0, le=2)
    # Load shedding (app/llm/gate.py): calls in flight per endpoint, then a short queue, then 503.
    llm_concurrency: int = Field(default=4, ge=1, le=256, description="Model calls at once.")
    llm_queue: int = Field(default=8, ge=0, le=1024, description="Answers that may wait for a "
                           "slot; more are refused at once (HTTP 503, Retry-After).")
    llm_queue_timeout: float = Field(default=10.0, ge=0, le=600, description="Seconds an answer "
                                     "waits for a slot before it is refused.")
    # Routing by task: each defaults to the answering endpoint/model.
    extract_llm_base_url: str | None = None
    extract_llm_model: str | None = None
    report_llm_base_url: str | None = None
    report_llm_model: str | None = None
    prompts_dir: Path | None = Field(default=None, description="Override the bundled prompts/.")
    llm_prices: Path | None = Field(
        default=None, description="TOML of prices per million tokens by model, for the cost "
        "figures of `homerag status --usage` and /metrics (default: data_dir/prices.toml).")

    # -- serving ------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None, description="Base URL of the web UI as clients reach it (e.g. "
        "http://127.0.0.1:8000); links in MCP and /v1 answers are absolute when set.")
    timezone: str = "UTC"
    # Access (issue 12; app/http/hosts.py, app/http/security.py).
    allowed_hosts: str | None = Field(
        default=None, description="Comma list of host names the server answers to (besides "
        "localhost and IP addresses); '.example.lan' allows subdomains, '*' any name.")
    trusted_proxies: str | None = Field(
        default=None, description="Comma list of proxy addresses/CIDRs whose X-Forwarded-For, "
        "-Proto and -Host headers are believed (e.g. 127.0.0.1/32 for a local Caddy).")
    max_request_mb: float = Field(
        default=10.0, gt=0, description="Largest JSON or form request body (uploads: max_upload_mb).")

    # -- money (issue 4) ----------------------------------------------------------------------
    statement_profiles_file: Path | None = Field(
        default=None, description="TOML with the owner's CSV statement layouts "
        "(default: data_dir/statement_profiles.toml).")
    category_rules_file: Path | None = Field(
        default=None, description="TOML with payee -> category rules (default: data_dir/categories.toml).")
    default_currency: str | None = Field(
        default=None, description="Currency for CSV exports that name none (e.g. EUR).")
    report_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    report_time: str = Field(default="07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                             description="Local time (HH:MM) of the weekly spending report.")
    backup_dir: Path | None = Field(
        default=None, description="Scheduled backups go here (off when unset).")
    backup_keep: int = Field(default=7, ge=1, le=1000, description="Backups kept by the schedule.")
    backup_time: str = Field(default="03:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                             description="Local time (HOMERAG_TIMEZONE) of the daily backup.")
    smtp_host: str | None = Field(default=None, description="Mail the weekly report via this server.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_from: str | None = None
    smtp_to: str | None = Field(default=None, description="Comma-separated recipients.")

    @field_validator("data_dir", "sources_file", "prompts_dir", "statement_profiles_file",
                     "category_rules_file", "backup_dir", "llm_prices", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("must start with postgresql:// (homerag needs PostgreSQL + pgvector)")
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("llm_base_url", "extract_llm_base_url", "report_llm_base_url", "public_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as http://127.0.0.1:8001/v1")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str | None) -> str | None:
        import ipaddress

        for part in (value or "").split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{part.strip()!r} is not an IP address or CIDR") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _check_overlap(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        return self

    # -- derived values -----------------------------------------------------------------------
    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def originals_dir(self) -> Path:
        return self.data_dir / "originals"

    @property
    def resolved_sources_file(self) -> Path:
        return self.sources_file or (self.data_dir / "sources.toml")

    @property
    def resolved_statement_profiles_file(self) -> Path:
        return self.statement_profiles_file or (self.data_dir / "statement_profiles.toml")

    @property
    def resolved_category_rules_file(self) -> Path:
        return self.category_rules_file or (self.data_dir / "categories.toml")

    @property
    def resolved_llm_prices_file(self) -> Path:
        return self.llm_prices or (self.data_dir / "prices.toml")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def llm_endpoint(self, task: Literal["answer", "extract", "report"] = "answer") -> LLMEndpoint:
        """Endpoint and model for one task; extraction and reports fall back to answering."""
        base, model = self.llm_base_url, self.llm_model
        if task == "extract":
            base, model = self.extract_llm_base_url or base, self.extract_llm_model or model
        elif task == "report":
            base, model = self.report_llm_base_url or base, self.report_llm_model or model
        key = self.llm_api_key.get_secret_value() if self.llm_api_key else None
        return LLMEndpoint(base_url=base, model=model, api_key=key, timeout=self.llm_timeout)


class LLMEndpoint:
    """Where one task's chat requests go."""

    __slots__ = ("api_key", "base_url", "model", "timeout")

    def __init__(self, *, base_url: str | None, model: str, api_key: str | None, timeout: float):
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def __repr__(self) -> str:  # never print the key
        return f"LLMEndpoint(base_url={self.base_url!r}, model={self.model!r})"


def database_url_problem(url: str) -> str | None:
    """Why `url` is not a usable database URL (never quoting it: it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
        port = parsed.port  # parsed lazily by some versions
    except ValueError as exc:
        reason = str(exc).split(":", 1)[0] if "int()" not in str(exc) else "the port is not a number"
        return f"not a valid URL ({reason})"
    except ArgumentError:
        return "not a valid URL (expected postgresql://user:password@host:port/database)"
    if port is not None and not 1 <= port <= 65535:
        return f"not a valid URL (port {port} is out of range)"
    return None


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation errors into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"HOMERAG_{field.upper()}" if field != "settings" else "settings"
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{env}: {msg}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use (tests call `get_settings.cache_clear()`)."""
    apply_privacy_env()
    return load_settings()
