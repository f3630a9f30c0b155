from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class LoyaltySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_LOYALTY_", extra="ignore")
    port: int = 50064
    # The expiry job: how often it writes off expired points, and for how many members per run.
    expiry_interval_s: float = 60.0
    expiry_batch: int = 200
