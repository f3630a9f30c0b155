from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class NetworkSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_NETWORK_", extra="ignore")
    port: int = 50065
    # businesses: members exist and sell in the network's currency (GetCompany).
    businesses_addr: str = "127.0.0.1:50063"
    # loyalty: the cross-business balance and the redemption (GetLoyaltyAccount, RedeemPoints).
    loyalty_addr: str = "127.0.0.1:50064"
