from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class PassSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_PASSES_", extra="ignore")
    port: int = 50062
