"""Service sets of the reliability scenarios: the booking path (reservations, partner-integrations,
optionally the whole mesh) on databases and a broker of the scenario's choosing, with the small
saga lease and recovery interval that let a scenario wait for compensations in seconds."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from novatrek.catalog.v1 import catalog_pb2_grpc
from novatrek.guests.v1 import guests_pb2_grpc
from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.partners.v1 import partners_pb2_grpc

from services.catalog.config import CatalogSettings
from services.catalog.main import build as build_catalog
from services.guests.config import GuestSettings
from services.guests.main import build as build_guests
from services.partners.config import PartnerSettings
from services.partners.main import build as build_partners
from services.payments.config import PaymentSettings
from services.payments.main import build as build_payments
from services.reservations.config import ReservationSettings
from services.reservations.main import build as build_reservations
from tests.integration.conftest import Running, fresh_database, serve
from tests.integration.partner_fixtures import ADMIN, ADMIN_TOKEN, count_plan
from tests.reliability.ledger import Databases

# Compensations left to recovery are finished within a second or two.
Route = Callable[[str, str], Awaitable[str]]
FAST_SAGAS = {"saga_lease_s": 1.0, "saga_recovery_interval_s": 0.3, "outbound_timeout_s": 1.0}
# A hold whose create failed without trace is given back within seconds, not a minute.
FAST_RELEASES = {"hold_grace_s": 2.0}


@dataclass
class Mesh:
    guests: Running
    catalog: Running
    payments: Running
    reservations: Running
    partners: Running
    db: Databases
    owned: list[Running] = field(default_factory=list)  # started here, stopped here

    @property
    def guests_stub(self):
        return guests_pb2_grpc.GuestServiceStub(self.guests.channel)

    @property
    def catalog_stub(self):
        return catalog_pb2_grpc.CatalogServiceStub(self.catalog.channel)

    @property
    def partners_stub(self):
        return partners_pb2_grpc.PartnerServiceStub(self.partners.channel)

    async def stop(self) -> None:
        for running in reversed(self.owned):
            await running.stop()


async def database(make_database, service: str) -> str:
    return await fresh_database(make_database, service, f"{service.split('-')[0]}_{uuid.uuid4().hex[:8]}")


async def booking_path(
    make_database,
    guests: Running,
    catalog: Running,
    payments: Running,
    nats_url: str,
    route: Route | None = None,
    **overrides,
) -> Mesh:
    """reservations + partner-integrations of their own in front of the given services. `route(name,
    address)` gives the address callers use for a service (e.g. a fault proxy in front of it)."""
    route = route or _direct
    via = {
        "guests": await route("guests", guests.address),
        "catalog": await route("catalog", catalog.address),
        "payments": await route("payments", payments.address),
    }
    reservations = await serve(
        build_reservations,
        ReservationSettings,
        await database(make_database, "reservations"),
        nats_url=nats_url,
        guests_addr=via["guests"],
        catalog_addr=via["catalog"],
        **{**FAST_RELEASES, **overrides},
    )
    via["reservations"] = await route("reservations", reservations.address)
    partners = await serve(
        build_partners,
        PartnerSettings,
        await database(make_database, "partner-integrations"),
        nats_url=nats_url,
        admin_token=ADMIN_TOKEN,
        **{**FAST_SAGAS, **overrides},
        **{f"{name}_addr": address for name, address in via.items()},
    )
    db = Databases(catalog.database_url, reservations.database_url, payments.database_url, partners.database_url)
    return Mesh(guests, catalog, payments, reservations, partners, db, owned=[reservations, partners])


async def _direct(name: str, address: str) -> str:
    return address


async def whole_mesh(make_database, nats_url: str, **overrides) -> Mesh:
    """Every service of the booking path on databases made by `make_database` (e.g. on a server of
    the scenario's own)."""
    started = []
    for service, build, settings in (
        ("guest-profiles", build_guests, GuestSettings),
        ("trip-catalog", build_catalog, CatalogSettings),
        ("payments", build_payments, PaymentSettings),
    ):
        started.append(
            await serve(build, settings, await database(make_database, service), nats_url=nats_url, **overrides)
        )
    mesh = await booking_path(make_database, *started, nats_url=nats_url, **overrides)
    mesh.owned = [*started, *mesh.owned]
    return mesh


async def new_partner(stub) -> tuple[str, str]:
    """A partner without webhook: its confirmations are recorded, never sent off the machine."""
    partner = pb.Partner(
        name=f"OTA {uuid.uuid4().hex[:6]}",
        contact_email="ops@ota.example",
        webhook_url="",
        commission_plan=count_plan(("0", "0.10")),
    )
    answer = await stub.RegisterPartner(pb.RegisterPartnerRequest(partner=partner), metadata=ADMIN)
    return answer.partner.partner_id, answer.api_key


async def add_notifications(mesh: Mesh, make_database, nats_url: str) -> Running:
    """notifications (consumers of partner confirmations and status changes) for this mesh."""
    from services.notifications.config import NotificationSettings
    from services.notifications.main import build as build_notifications
    from tests.integration.notification_fixtures import FAST_DELIVERY

    running = await serve(
        build_notifications,
        NotificationSettings,
        await database(make_database, "notifications"),
        nats_url=nats_url,
        partners_addr=mesh.partners.address,
        partners_token=ADMIN_TOKEN,
        **FAST_DELIVERY,
    )
    mesh.owned.append(running)
    return running
