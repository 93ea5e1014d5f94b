"""Settings from the environment, validated once at start-up."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.domain.webhooks.retries import DEFAULT_SCHEDULE

DEFAULT_DATABASE_URL = "sqlite://./data/laurel.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    database_pool_size: int = Field(default=10, alias="LAUREL_DATABASE_POOL_SIZE", ge=1)
    bootstrap_admin_key: str | None = Field(default=None, alias="LAUREL_BOOTSTRAP_ADMIN_KEY")
    admin_key_file: str | None = Field(default=None, alias="LAUREL_ADMIN_KEY_FILE")
    auto_migrate: bool = Field(default=True, alias="LAUREL_AUTO_MIGRATE")
    host: str = Field(default="127.0.0.1", alias="LAUREL_HOST")
    port: int = Field(default=8000, alias="LAUREL_PORT", ge=1, le=65535)
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    redis_timeout_s: float = Field(default=0.25, alias="LAUREL_REDIS_TIMEOUT_S", gt=0)
    redis_cooldown_s: float = Field(default=5.0, alias="LAUREL_REDIS_COOLDOWN_S", gt=0)
    # Prefixes every Redis key and channel, for deployments that share one Redis database.
    redis_namespace: str = Field(
        default="laurel", alias="LAUREL_REDIS_NAMESPACE", pattern=r"^[A-Za-z0-9_.-]{1,64}$"
    )
    environment: str = Field(default="production", alias="LAUREL_ENV")
    log_level: str = Field(default="INFO", alias="LAUREL_LOG_LEVEL")
    max_query_depth: int = Field(default=10, alias="LAUREL_MAX_QUERY_DEPTH", ge=1)
    max_aliases: int = Field(default=15, alias="LAUREL_MAX_ALIASES", ge=0)
    max_tokens: int = Field(default=2000, alias="LAUREL_MAX_TOKENS", ge=1)
    max_query_cost: int = Field(default=1000, alias="LAUREL_MAX_QUERY_COST", ge=1)
    list_cost_factor: int = Field(default=10, alias="LAUREL_LIST_COST_FACTOR", ge=1)
    max_selections: int = Field(default=100, alias="LAUREL_MAX_SELECTIONS", ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, alias="LAUREL_MAX_BODY_BYTES", ge=1024)
    # Queries and mutations run by plans compiled once per document; off: graphql-core's
    # executor runs them.
    query_plans: bool = Field(default=True, alias="LAUREL_QUERY_PLANS")
    # A JSON POST of a document already validated goes straight to the executor, past
    # Strawberry's HTTP view; off: every request takes Strawberry's view.
    express_lane: bool = Field(default=True, alias="LAUREL_EXPRESS_LANE")
    # Single trackEvent requests of one tenant that arrive together, or while its transactions
    # are busy, share one transaction; off: every event has a transaction of its own.
    group_commit: bool = Field(default=True, alias="LAUREL_GROUP_COMMIT")
    # API keys belong to your own backends: unlimited unless set. User tokens face the internet.
    rate_limit_per_second: float = Field(default=0.0, alias="LAUREL_RATE_LIMIT_PER_SECOND", ge=0)
    rate_limit_burst: int = Field(default=2000, alias="LAUREL_RATE_LIMIT_BURST", ge=1)
    token_rate_limit_per_second: float = Field(
        default=20.0, alias="LAUREL_TOKEN_RATE_LIMIT_PER_SECOND", ge=0
    )
    token_rate_limit_burst: int = Field(default=40, alias="LAUREL_TOKEN_RATE_LIMIT_BURST", ge=1)
    # Background work: how often it looks for what another instance (or a crash) left behind.
    outbox_poll_s: float = Field(default=1.0, alias="LAUREL_OUTBOX_POLL_S", gt=0)
    outbox_stale_s: float = Field(default=2.0, alias="LAUREL_OUTBOX_STALE_S", ge=0)
    outbox_lease_s: float = Field(default=30.0, alias="LAUREL_OUTBOX_LEASE_S", gt=0)
    outbox_gather_s: float = Field(default=0.005, alias="LAUREL_OUTBOX_GATHER_S", ge=0, le=1)
    backdate_poll_s: float = Field(default=2.0, alias="LAUREL_BACKDATE_POLL_S", gt=0)
    streak_clock_s: float = Field(default=30.0, alias="LAUREL_STREAK_CLOCK_S", gt=0)
    job_interval_s: float = Field(default=60.0, alias="LAUREL_JOB_INTERVAL_S", gt=0)
    leaderboard_rebalance_s: float = Field(
        default=5.0, alias="LAUREL_LEADERBOARD_REBALANCE_S", gt=0
    )
    leaderboard_changed_interval_s: float = Field(
        default=60.0, alias="LAUREL_LEADERBOARD_CHANGED_INTERVAL_S", ge=0
    )
    backdate_settle_s: float = Field(default=1.0, alias="LAUREL_BACKDATE_SETTLE_S", ge=0)
    metrics_interval_s: float = Field(default=5.0, alias="LAUREL_METRICS_INTERVAL_S", gt=0)
    gc_interval_s: float = Field(default=10.0, alias="LAUREL_GC_INTERVAL_S", gt=0)
    max_sockets_per_credential: int = Field(
        default=100, alias="LAUREL_MAX_SOCKETS_PER_CREDENTIAL", ge=1
    )
    # How often an open WebSocket's credentials are checked again (revocation, expiry).
    credential_recheck_s: float = Field(default=5.0, alias="LAUREL_CREDENTIAL_RECHECK_S", gt=0)

    # Webhooks: the key that seals endpoint secrets (base64 of 32 bytes; several instances must
    # share it), or the file it is kept in when unset.
    secret_key: str | None = Field(default=None, alias="LAUREL_SECRET_KEY", repr=False)
    secret_key_file: str = Field(default="./data/laurel-secret.key", alias="LAUREL_SECRET_KEY_FILE")
    webhook_allow_private: bool = Field(default=False, alias="LAUREL_WEBHOOK_ALLOW_PRIVATE")
    webhook_allow_http: bool = Field(default=False, alias="LAUREL_WEBHOOK_ALLOW_HTTP")
    webhook_timeout_s: float = Field(default=15.0, alias="LAUREL_WEBHOOK_TIMEOUT_S", gt=0)
    webhook_retry_schedule: str = Field(
        default=",".join(f"{s:g}" for s in DEFAULT_SCHEDULE),
        alias="LAUREL_WEBHOOK_RETRY_SCHEDULE",
    )
    webhook_retry_jitter: float = Field(default=0.1, alias="LAUREL_WEBHOOK_RETRY_JITTER", ge=0)
    webhook_disable_after_days: float = Field(
        default=5.0, alias="LAUREL_WEBHOOK_DISABLE_AFTER_DAYS", gt=0
    )
    webhook_log_retention_days: float = Field(
        default=30.0, alias="LAUREL_WEBHOOK_LOG_RETENTION_DAYS", gt=0
    )
    webhook_poll_s: float = Field(default=1.0, alias="LAUREL_WEBHOOK_POLL_S", gt=0)
    # Raw events are kept for the record only; unset keeps them all.
    event_retention_days: float | None = Field(
        default=None, alias="LAUREL_EVENT_RETENTION_DAYS", gt=0
    )

    # Where badge bytes live: in the database (every instance serves them, backups hold them),
    # a directory shared by every instance, or an S3-compatible bucket.
    badge_storage: str = Field(
        default="database", alias="LAUREL_BADGE_STORAGE", pattern=r"^(database|directory|s3)$"
    )
    badge_directory: str = Field(default="./data/badges", alias="LAUREL_BADGE_DIRECTORY")
    badge_bucket: str | None = Field(default=None, alias="LAUREL_BADGE_S3_BUCKET")
    badge_s3_endpoint: str | None = Field(default=None, alias="LAUREL_BADGE_S3_ENDPOINT_URL")
    badge_s3_region: str | None = Field(default=None, alias="LAUREL_BADGE_S3_REGION")
    # Base of hosted badge URLs (https://laurel.example.com); unset: the upload request's origin.
    public_url: str | None = Field(default=None, alias="LAUREL_PUBLIC_URL")

    # Origins whose pages may call Laurel from a browser: comma-separated, `*` for any.
    cors_origins: str = Field(default="", alias="LAUREL_CORS_ORIGINS")

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if not url.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("DATABASE_URL must start with sqlite:// or postgres://")
        return url.replace("postgresql://", "postgres://", 1)

    @field_validator("bootstrap_admin_key")
    @classmethod
    def _key_shape(cls, key: str | None) -> str | None:
        if key is not None and (key.count(".") != 1 or not all(key.split("."))):
            raise ValueError("LAUREL_BOOTSTRAP_ADMIN_KEY must look like <prefix>.<secret>")
        return key

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule_shape(cls, schedule: str) -> str:
        try:
            delays = [float(part) for part in schedule.split(",")]
        except ValueError as error:
            raise ValueError(
                "LAUREL_WEBHOOK_RETRY_SCHEDULE must be seconds, comma-separated"
            ) from error
        if any(not 0 <= delay <= 7 * 86400 for delay in delays):
            raise ValueError("each retry delay must be between 0 and 604800 seconds")
        return schedule

    @property
    def retry_schedule(self) -> tuple[float, ...]:
        return tuple(float(part) for part in self.webhook_retry_schedule.split(","))

    @property
    def event_retention(self) -> timedelta | None:
        days = self.event_retention_days
        return None if days is None else timedelta(days=days)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite://")

    @property
    def development(self) -> bool:
        return self.environment == "development"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
