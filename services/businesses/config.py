from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class BusinessSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_BUSINESSES_", extra="ignore")
    port: int = 50063
    # guest-profiles: a customer's guest link is checked there (GetGuest).
    guests_addr: str = "127.0.0.1:50051"
