"""Gateway settings, env prefix NOVATREK_GATEWAY_ (lists and maps as JSON, e.g.
NOVATREK_GATEWAY_UPSTREAMS='{"novatrek.partners.v1.PartnerService": "partners:50056"}')."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.gateway.client_auth import client_settings_problem

PARTNERS = "novatrek.partners.v1.PartnerService"
RESERVATIONS = "novatrek.reservations.v1.ReservationService"
GUESTS = "novatrek.guests.v1.GuestService"
CATALOG = "novatrek.catalog.v1.CatalogService"
PAYMENTS = "novatrek.payments.v1.PaymentService"
CHECKOUT = "novatrek.checkout.v1.CheckoutService"
ORDERS = "novatrek.orders.v1.OrderService"
INVENTORY = "novatrek.inventory.v1.InventoryService"
BOOKINGS = "novatrek.bookings.v1.BookingService"
SESSION_VIEWS = "novatrek.bookings.v1.SessionViewService"  # served by bookings too
WALLET = "novatrek.wallet.v1.WalletService"
BUSINESSES = "novatrek.businesses.v1.BusinessService"
PASSES = "novatrek.passes.v1.PassService"
LOYALTY = "novatrek.loyalty.v1.LoyaltyService"
NETWORK = "novatrek.network.v1.PartnerNetworkService"

# Where each service listens by default (docs/architecture.md); only exposed ones get a channel.
DEFAULT_UPSTREAMS = {
    GUESTS: "127.0.0.1:50051",
    CATALOG: "127.0.0.1:50052",
    RESERVATIONS: "127.0.0.1:50053",
    PAYMENTS: "127.0.0.1:50054",
    PARTNERS: "127.0.0.1:50056",
    CHECKOUT: "127.0.0.1:50057",
    ORDERS: "127.0.0.1:50058",
    INVENTORY: "127.0.0.1:50059",
    BOOKINGS: "127.0.0.1:50060",
    SESSION_VIEWS: "127.0.0.1:50060",
    WALLET: "127.0.0.1:50061",
    PASSES: "127.0.0.1:50062",
    BUSINESSES: "127.0.0.1:50063",
    LOYALTY: "127.0.0.1:50064",
    NETWORK: "127.0.0.1:50065",
}
# What the public listener serves: the partner API and the customers' client surface (`/api/client/…`).
PUBLIC_SERVICES = (PARTNERS, BOOKINGS)
# First-party REST surfaces: the seed's `/reservations…`, guests and catalog; the ordering domain's
# checkouts and orders, stock, the businesses' companies and customers, pass products and
# entitlements, wallets (top-ups at the desk), the business session views (bookings), loyalty (rules,
# points accounts) and partner networks for back-office tools. Never partners' business.
INTERNAL_SERVICES = (
    RESERVATIONS, GUESTS, CATALOG, CHECKOUT, ORDERS, INVENTORY, BUSINESSES, PASSES, WALLET, SESSION_VIEWS, LOYALTY,
    NETWORK,
)  # fmt: skip
# Headers the gateway itself owns, that HTTP/2 and gRPC reserve, or that only the mesh sets (x-novatrek-*:
# a partner must not pass its call off as one between services): never forwarded from the allow-list.
_RESERVED_HEADER = re.compile(
    r"^(grpc-.*|.*-bin|:.*|content-type|content-length|te|host|connection|user-agent|authorization|idempotency-key|x-request-id"
    r"|x-novatrek-.*)$"
)
_TOKEN = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOVATREK_GATEWAY_", extra="ignore", populate_by_name=True)

    # Public listener: what partners and customers reach.
    host: str = "0.0.0.0"
    port: int = 8080
    public_services: list[str] = Field(default_factory=lambda: list(PUBLIC_SERVICES))
    # Internal listener: the first-party REST surfaces (INTERNAL_SERVICES), loopback by default.
    internal_enabled: bool = True
    internal_host: str = "127.0.0.1"
    internal_port: int = 8081
    internal_services: list[str] = Field(default_factory=lambda: list(INTERNAL_SERVICES))
    # Full service name -> host:port of the gRPC server that implements it.
    upstreams: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_UPSTREAMS))

    max_body_bytes: int = 1024 * 1024
    default_timeout_s: float = 10.0
    max_timeout_s: float = 60.0
    # Token bucket per API key (its hash) or client IP: `rate_limit_per_s` refill, `rate_limit_burst` size.
    rate_limit_enabled: bool = True
    rate_limit_per_s: float = 20.0
    rate_limit_burst: int = 40
    rate_limit_max_clients: int = 100_000
    # Request headers forwarded as gRPC metadata besides authorization, idempotency-key, x-request-id.
    forwarded_headers: list[str] = Field(default_factory=lambda: ["traceparent", "tracestate", "baggage"])
    # Proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips); empty: none.
    trusted_proxies: str = ""
    max_concurrent_requests: int = 1000
    readiness_timeout_s: float = 1.0
    shutdown_grace_s: float = 10.0
    log_level: str = "INFO"
    access_log: bool = True
    # The client surface (client_auth.py): routes under `client_protected_prefix` need a customer's bearer
    # token (a JWT) verified with `client_token_key` (an HS* secret, or an RS*/ES* PEM public key), except
    # those under `client_guest_prefix`, which are throttled per client address instead.
    client_token_key: SecretStr = SecretStr("")
    client_token_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    client_token_issuer: str = ""  # checked when set
    client_token_audience: str = ""  # checked when set
    client_token_leeway_s: float = 30.0
    client_protected_prefix: str = "/api/client/"
    client_guest_prefix: str = "/api/client/guest/"
    guest_rate_per_min: float = 6.0
    guest_burst: int = 3

    @model_validator(mode="after")
    def _consistent(self) -> GatewaySettings:
        exposed = [*self.public_services, *(self.internal_services if self.internal_enabled else [])]
        missing = sorted(set(exposed) - set(self.upstreams))
        if missing:
            raise ValueError(f"no upstream address for {', '.join(missing)} (set upstreams)")
        self.forwarded_headers = [h.strip().lower() for h in self.forwarded_headers if h.strip()]
        bad = [h for h in self.forwarded_headers if _RESERVED_HEADER.match(h) or not _TOKEN.fullmatch(h)]
        if bad:
            raise ValueError(f"forwarded_headers may not name reserved or invalid headers: {', '.join(bad)}")
        if self.rate_limit_per_s <= 0 or self.rate_limit_burst < 1:
            raise ValueError("rate_limit_per_s must be > 0 and rate_limit_burst >= 1")
        if not 0 < self.default_timeout_s <= self.max_timeout_s:
            raise ValueError("need 0 < default_timeout_s <= max_timeout_s")
        if self.guest_rate_per_min <= 0 or self.guest_burst < 1:
            raise ValueError("guest_rate_per_min must be > 0 and guest_burst >= 1")
        if problem := client_settings_problem(self):
            raise ValueError(problem)
        return self
