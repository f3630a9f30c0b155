from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class WalletSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_WALLET_", extra="ignore")
    port: int = 50061
