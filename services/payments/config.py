from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class PaymentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_PAYMENTS_", extra="ignore")
    port: int = 50054
    # Which PaymentProcessor adapter charges (services/payments/processor.py); "fake" is deterministic.
    processor: str = "fake"
    # Every processor call is abandoned after this long (UNAVAILABLE PROCESSOR_UNAVAILABLE).
    processor_deadline_s: float = 5.0
    # How long the fake processor keeps a `timeout…` method waiting before it gives up.
    fake_processor_delay_s: float = 30.0
