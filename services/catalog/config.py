from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_CATALOG_", extra="ignore")
    port: int = 50052
    # The finish job: how often it looks for sessions whose end time passed (one query when there is
    # none), and how many it finishes (and announces) per transaction.
    finish_interval_s: float = 10.0
    finish_batch: int = 200
