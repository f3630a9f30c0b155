from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class CheckoutSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_CHECKOUT_", extra="ignore")
    port: int = 50057
    inventory_addr: str = "127.0.0.1:50059"
    payments_addr: str = "127.0.0.1:50054"
    orders_addr: str = "127.0.0.1:50058"
    # AuthorizePayment waits for the processor (payments gives up after its own 5 s deadline).
    payments_timeout_s: float = 8.0
    # How long the stock stays held for the order (inventory's maximum: 24 h); fulfilment commits it.
    stock_hold_s: int = 86400
    # A saga whose process stopped renewing its lease this long ago is recovered (compensated, or
    # finished once its order exists). Longer than any one step takes.
    saga_lease_s: float = 30.0
    saga_recovery_interval_s: float = 10.0
    # The whole checkout's budget when the caller (or the cart event) sets no deadline.
    checkout_timeout_s: float = 20.0
