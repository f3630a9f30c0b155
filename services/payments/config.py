from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class PaymentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_PAYMENTS_", extra="ignore")
    port: int = 50054
    # Which PaymentProcessor adapter charges (services/payments/processor.py); "fake" is deterministic.
    processor: str = "fake"
