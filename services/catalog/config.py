from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_CATALOG_", extra="ignore")
    port: int = 50052
