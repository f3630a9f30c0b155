from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class GuestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_GUESTS_", extra="ignore")
    port: int = 50051
