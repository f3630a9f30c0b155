"""The one table of the services `novatrek` knows: name -> package, settings, build, database, port.

Service modules are imported lazily (only when a command needs them), so a context that is not
there yet fails with a clear message naming it instead of breaking the whole CLI.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ServiceNotAvailable(RuntimeError):
    """A registered service whose code cannot be imported (not written yet, or broken)."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # the CLI name, e.g. "guest-profiles"
    package: str  # services/<package>/, also its migrations folder
    settings_path: str  # "module:Class"
    build_path: str  # "module:function" -> build(settings) -> ServiceRuntime
    database: str  # database name `novatrek up` creates
    port: int  # default gRPC port
    grpc_service: str  # full proto service name (health check, banner)
    # settings field -> name of the service whose address goes there ("host:port")
    peers: dict[str, str] = field(default_factory=dict)
    # Other proto services the same server answers (bookings' business SessionViewService).
    more_services: tuple[str, ...] = ()

    @property
    def grpc_services(self) -> tuple[str, ...]:
        return (self.grpc_service, *self.more_services)

    @property
    def env_prefix(self) -> str:
        return f"NOVATREK_{self.package.upper()}_"

    def env(self, setting: str) -> str:
        """The environment variable of one setting: env("database_url") -> NOVATREK_GUESTS_DATABASE_URL."""
        return f"{self.env_prefix}{setting.upper()}"

    def settings_cls(self) -> type:
        return _load(self, self.settings_path)

    def build(self) -> Callable[[Any], Any]:
        return _load(self, self.build_path)


def _load(spec: ServiceSpec, path: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise ServiceNotAvailable(
                f"{spec.name}: module {module_name} does not exist (is services/{spec.package}/ written yet?)"
            ) from exc
        raise
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ServiceNotAvailable(f"{spec.name}: {module_name} has no {attr}") from None


REGISTRY: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec(
            "guest-profiles",
            "guests",
            "services.guests.config:GuestSettings",
            "services.guests.main:build",
            "novatrek_guests",
            50051,
            "novatrek.guests.v1.GuestService",
        ),
        ServiceSpec(
            "trip-catalog",
            "catalog",
            "services.catalog.config:CatalogSettings",
            "services.catalog.main:build",
            "novatrek_catalog",
            50052,
            "novatrek.catalog.v1.CatalogService",
        ),
        ServiceSpec(
            "reservations",
            "reservations",
            "services.reservations.config:ReservationSettings",
            "services.reservations.main:build",
            "novatrek_reservations",
            50053,
            "novatrek.reservations.v1.ReservationService",
            peers={"guests_addr": "guest-profiles", "catalog_addr": "trip-catalog"},
        ),
        ServiceSpec(
            "payments",
            "payments",
            "services.payments.config:PaymentSettings",
            "services.payments.main:build",
            "novatrek_payments",
            50054,
            "novatrek.payments.v1.PaymentService",
        ),
        ServiceSpec(
            "notifications",
            "notifications",
            "services.notifications.config:NotificationSettings",
            "services.notifications.main:build",
            "novatrek_notifications",
            50055,
            "novatrek.notifications.v1.NotificationService",
            peers={"partners_addr": "partner-integrations"},
        ),
        ServiceSpec(
            "partner-integrations",
            "partners",
            "services.partners.config:PartnerSettings",
            "services.partners.main:build",
            "novatrek_partners",
            50056,
            "novatrek.partners.v1.PartnerService",
            peers={
                "guests_addr": "guest-profiles",
                "reservations_addr": "reservations",
                "payments_addr": "payments",
            },
        ),
        ServiceSpec(
            "checkout",
            "checkout",
            "services.checkout.config:CheckoutSettings",
            "services.checkout.main:build",
            "novatrek_checkout",
            50057,
            "novatrek.checkout.v1.CheckoutService",
            peers={"inventory_addr": "inventory", "payments_addr": "payments", "orders_addr": "orders"},
        ),
        ServiceSpec(
            "orders",
            "orders",
            "services.orders.config:OrderSettings",
            "services.orders.main:build",
            "novatrek_orders",
            50058,
            "novatrek.orders.v1.OrderService",
        ),
        ServiceSpec(
            "inventory",
            "inventory",
            "services.inventory.config:InventorySettings",
            "services.inventory.main:build",
            "novatrek_inventory",
            50059,
            "novatrek.inventory.v1.InventoryService",
        ),
        ServiceSpec(
            "wallet",
            "wallet",
            "services.wallet.config:WalletSettings",
            "services.wallet.main:build",
            "novatrek_wallet",
            50061,
            "novatrek.wallet.v1.WalletService",
        ),
        ServiceSpec(
            "passes",
            "passes",
            "services.passes.config:PassSettings",
            "services.passes.main:build",
            "novatrek_passes",
            50062,
            "novatrek.passes.v1.PassService",
        ),
        ServiceSpec(
            "businesses",
            "businesses",
            "services.businesses.config:BusinessSettings",
            "services.businesses.main:build",
            "novatrek_businesses",
            50063,
            "novatrek.businesses.v1.BusinessService",
            peers={"guests_addr": "guest-profiles"},
        ),
        ServiceSpec(
            "bookings",
            "bookings",
            "services.bookings.config:BookingSettings",
            "services.bookings.main:build",
            "novatrek_bookings",
            50060,
            "novatrek.bookings.v1.BookingService",
            peers={
                "catalog_addr": "trip-catalog",
                "businesses_addr": "businesses",
                "passes_addr": "passes",
                "wallet_addr": "wallet",
                "payments_addr": "payments",
            },
            more_services=("novatrek.bookings.v1.SessionViewService",),
        ),
        ServiceSpec(
            "loyalty",
            "loyalty",
            "services.loyalty.config:LoyaltySettings",
            "services.loyalty.main:build",
            "novatrek_loyalty",
            50064,
            "novatrek.loyalty.v1.LoyaltyService",
        ),
        ServiceSpec(
            "partner-network",
            "network",
            "services.network.config:NetworkSettings",
            "services.network.main:build",
            "novatrek_network",
            50065,
            "novatrek.network.v1.PartnerNetworkService",
            peers={"businesses_addr": "businesses", "loyalty_addr": "loyalty"},
        ),
    )
}

NATS_URL_ENV = "NOVATREK_NATS_URL"


def get(name: str) -> ServiceSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ServiceNotAvailable(f"unknown service {name!r}; known: {', '.join(REGISTRY)}") from None
