from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class ReservationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_RESERVATIONS_", extra="ignore")
    port: int = 50053
    guests_addr: str = "127.0.0.1:50051"
    catalog_addr: str = "127.0.0.1:50052"
    partitions_months_ahead: int = 3
    # A hold whose create has not written its reservation after this long is given back.
    hold_grace_s: float = 60.0
