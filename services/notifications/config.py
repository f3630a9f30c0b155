from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_NOTIFICATIONS_", extra="ignore")
    port: int = 50055
    partners_addr: str = "127.0.0.1:50056"
    # partner-integrations' admin token: GetPartnerWebhook (url + signing secret) is admin-only.
    partners_token: SecretStr = SecretStr("")
    webhook_timeout_s: float = 5.0
    # A partner's webhook (url, secret) is cached this long; a changed one is used after at most this.
    webhook_cache_ttl_s: float = 30.0
    delivery_backoff_base_s: float = 1.0
    delivery_backoff_max_s: float = 300.0
    delivery_max_attempts: int = 8
    delivery_batch: int = 20
    delivery_poll_interval_s: float = 1.0
    # A claimed notification is due again after this (its worker died mid-delivery): > webhook timeout.
    delivery_lease_s: float = 60.0
