from pydantic import SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class PartnerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_PARTNERS_", extra="ignore")
    port: int = 50056
    guests_addr: str = "127.0.0.1:50051"
    reservations_addr: str = "127.0.0.1:50053"
    payments_addr: str = "127.0.0.1:50054"
    # Empty: no admin access at all (RegisterPartner refused) until an operator sets one.
    admin_token: SecretStr = SecretStr("")
    # Server-side secret of the API key HMAC; set your own in production.
    api_key_pepper: SecretStr = SecretStr("novatrek-dev-api-key-pepper")
    key_grace_period_s: float = 24 * 3600
    idempotency_retention_s: float = 24 * 3600
    # A saga whose process stopped renewing its lease this long ago is compensated by recovery.
    saga_lease_s: float = 30.0
    saga_recovery_interval_s: float = 10.0
    # The whole pipeline's budget when the caller sets no deadline.
    pipeline_timeout_s: float = 15.0

    @field_validator("idempotency_retention_s")
    @classmethod
    def _keep_keys_a_day(cls, value: float) -> float:
        if value < 24 * 3600:
            raise ValueError("idempotency keys are kept at least 24 h")
        return value
