from pydantic_settings import SettingsConfigDict

from services.chassis.config import ServiceSettings


class BookingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_BOOKINGS_", extra="ignore")
    port: int = 50060
    catalog_addr: str = "127.0.0.1:50052"
    businesses_addr: str = "127.0.0.1:50063"
    passes_addr: str = "127.0.0.1:50062"
    wallet_addr: str = "127.0.0.1:50061"
    payments_addr: str = "127.0.0.1:50054"
    # AuthorizePayment waits for the processor (payments gives up after its own 5 s deadline).
    payments_timeout_s: float = 8.0
    # The cancellation policy: a booking can be cancelled until this long before its session starts.
    cancellation_cutoff_s: int = 7200
    # A saga whose process stopped renewing its lease this long ago is recovered.
    saga_lease_s: float = 30.0
    saga_recovery_interval_s: float = 10.0
    # The whole booking's budget when the caller sets no deadline.
    booking_timeout_s: float = 20.0
    # How long a biller or refunder owns a booking (longer than its calls take), and how often the
    # billing and refund loops look for work (they are also woken by the events that make work).
    claim_s: float = 30.0
    billing_interval_s: float = 5.0
    refund_interval_s: float = 10.0
