"""Settings every service shares; each context subclasses with its own env prefix."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Read from `NOVATREK_<SERVICE>_*`; the broker URL also falls back to `NOVATREK_NATS_URL`."""

    # populate_by_name: overrides by field name (tests, `novatrek up`) win over the env alias.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    host: str = "0.0.0.0"
    port: int = 0
    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    nats_url: str = Field(default="nats://127.0.0.1:4222", validation_alias="NOVATREK_NATS_URL")
    # The seed's connection pool: min 10 / max 40 / idle timeout 10 min.
    db_pool_min: int = 10
    db_pool_max: int = 40
    db_pool_idle_timeout_s: int = 600
    db_pool_timeout_s: float = 5.0
    db_pool_pre_ping: bool = False
    # Calls in progress (running or queued) beyond which new ones are RESOURCE_EXHAUSTED. 0: no limit.
    max_concurrent_rpcs: int = 1000
    # Calls handled at once; the others (up to max_concurrent_rpcs) queue in arrival order. 0: no limit.
    max_active_rpcs: int = 8
    max_message_bytes: int = 4 * 1024 * 1024
    # Worker processes sharing the port (SO_REUSEPORT; `novatrek serve --processes`): one grpc.aio
    # process uses one core. `reuse_port` is set by `serve` for its workers, not by hand.
    processes: int = 1
    reuse_port: bool = False
    # Connections (channels) a typed client opens to each peer, calls spread round robin over them:
    # a peer's SO_REUSEPORT workers share connections, not calls (clients/channel.py).
    outbound_connections: int = 1
    shutdown_grace_s: float = 10.0
    max_connection_age_s: int = 300
    # JetStream replicas of the streams this service declares (3 on a 3-node NATS cluster).
    stream_replicas: int = 1
    health_interval_s: float = 2.0
    outbound_timeout_s: float = 3.0
    # Signs page tokens so a token that was not ours is refused.
    page_token_secret: SecretStr = SecretStr("novatrek-dev-page-token-secret")
    # Event consumers: redelivery after ack_wait, dead letter after max_deliver failed deliveries.
    consumer_ack_wait_s: float = 30.0
    consumer_max_deliver: int = 5
    consumer_retry_base_s: float = 0.5
    # Replicas of a service share its durable consumers (competing consumers). A prefix gives an
    # isolated copy (tests sharing one NATS); an inactivity threshold lets the server drop it.
    consumer_durable_prefix: str = ""
    consumer_inactive_threshold_s: float | None = None
    # A new durable replays every retained event (7 days), so a fresh deployment misses none. A copy
    # that only needs what happens from its start on (tests sharing one NATS) sets a look-back (s).
    consumer_start_lookback_s: float | None = None
    # Observability: /metrics on this port (0: off); spans exported by OTLP/gRPC when set.
    metrics_port: int = 0
    metrics_interval_s: float = 5.0
    otlp_endpoint: str = ""
    log_level: str = "INFO"
    access_log: bool = False


def settings_for(cls: type[ServiceSettings], **overrides: Any) -> ServiceSettings:
    """Environment first, explicit overrides (tests, `novatrek up`) on top."""
    return cls(**overrides)
