from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_ORDERS_", extra="ignore")
    port: int = 50058
