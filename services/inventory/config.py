from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class InventorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_INVENTORY_", extra="ignore")
    port: int = 50059
    # How long a reservation holds its stock when the request says 0 (at most domain.MAX_HOLD_S).
    default_hold_s: int = 15 * 60
    # The expiry sweep: how often it looks for expired reservations, and how many it releases per statement.
    expiry_interval_s: float = 5.0
    expiry_batch: int = 200
