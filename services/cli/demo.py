"""Demo data for `novatrek up`, loaded through the public gRPC APIs and idempotent: what already
exists (guests by email, trips by name, trips that already have future departures, stocked SKUs) is kept."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import grpc

from services.chassis.protoconv import date_to_proto, money_to_proto
from services.cli import demo_activities, demo_network

TIMEOUT_S = 10.0


@dataclass(frozen=True)
class DemoGuest:
    first_name: str
    last_name: str
    email: str
    phone: str
    born: date


@dataclass(frozen=True)
class DemoTrip:
    name: str
    description: str
    price: Decimal
    currency: str = "USD"


GUESTS = (
    DemoGuest("Ada", "Lovelace", "ada.lovelace@demo.novatrek.io", "+44 20 7946 0001", date(1985, 12, 10)),
    DemoGuest("Tenzing", "Norgay", "tenzing.norgay@demo.novatrek.io", "+977 1 4000001", date(1979, 5, 29)),
    DemoGuest("Junko", "Tabei", "junko.tabei@demo.novatrek.io", "+81 3 5550 0001", date(1990, 9, 22)),
)
TRIPS = (
    DemoTrip("Patagonia Glacier Trek", "Eight days on the ice fields of Los Glaciares.", Decimal("1299.00")),
    DemoTrip("Kilimanjaro Machame Route", "Seven-day summit climb with certified guides.", Decimal("2450.00")),
    DemoTrip("Norwegian Fjords Kayak", "Five days paddling the Nærøyfjord.", Decimal("849.50")),
    DemoTrip("Iceland Highlands Traverse", "Laugavegur and Fimmvörðuháls in six days.", Decimal("1575.00")),
)


@dataclass(frozen=True)
class DemoGear:
    sku: str
    name: str
    stock: int  # on hand when first stocked
    price: Decimal  # what the cart shows: inventory keeps no prices
    currency: str = "USD"


GEAR = (
    DemoGear("RENTAL-KIT-TREK", "Trekking rental kit (poles, gaiters, headlamp)", 40, Decimal("35.00")),
    DemoGear("RENTAL-KIT-KAYAK", "Kayak rental kit (paddle, spray deck, PFD)", 25, Decimal("55.00")),
    DemoGear("DRYBAG-20L", "Dry bag 20 L", 100, Decimal("24.90")),
    DemoGear("DRYBAG-40L", "Dry bag 40 L", 60, Decimal("32.50")),
    DemoGear("GUIDE-PATAGONIA", "Patagonia trekking guidebook", 75, Decimal("19.95")),
)
DEPARTURE_OFFSETS_DAYS = (7, 14, 30)
CAPACITIES = (12, 16, 20)


DEMO_PARTNER = "NovaTrek Demo OTA"
# Booking-count tiers: 8 % from the first booking of a month, 10 % from the 10th, 12 % from the 50th.
DEMO_PLAN_TIERS = (("0", "0.08"), ("10", "0.10"), ("50", "0.12"))


@dataclass
class DemoData:
    guests: dict[str, str] = field(default_factory=dict)  # email -> guest_id
    trips: dict[str, str] = field(default_factory=dict)  # name -> trip_id
    departures: dict[str, list[date]] = field(default_factory=dict)  # trip_id -> future dates
    partner_id: str = ""
    partner_key: str = ""
    webhook_secret: str = field(default="", repr=False)  # the demo partner's, for the local receiver
    stock: dict[str, int] = field(default_factory=dict)  # sku -> available
    activities: demo_activities.ActivitiesDemo = field(default_factory=demo_activities.ActivitiesDemo)
    client_token: str = field(default="", repr=False)  # the demo customer's bearer token, once minted
    network: demo_network.NetworkDemo = field(default_factory=demo_network.NetworkDemo)


def load_guests(channel: grpc.Channel) -> dict[str, str]:
    from novatrek.guests.v1 import guests_pb2 as pb
    from novatrek.guests.v1 import guests_pb2_grpc

    stub = guests_pb2_grpc.GuestServiceStub(channel)
    ids: dict[str, str] = {}
    for g in GUESTS:
        found = stub.SearchGuests(pb.SearchGuestsRequest(email=g.email, page_size=1), timeout=TIMEOUT_S).guests
        if not found:
            guest = pb.Guest(
                first_name=g.first_name,
                last_name=g.last_name,
                email=g.email,
                phone=g.phone,
                date_of_birth=date_to_proto(g.born),
            )
            try:
                found = [stub.CreateGuest(pb.CreateGuestRequest(guest=guest), timeout=TIMEOUT_S).guest]
            except grpc.RpcError as err:  # created concurrently: read it back
                if err.code() != grpc.StatusCode.ALREADY_EXISTS:
                    raise
                found = stub.SearchGuests(pb.SearchGuestsRequest(email=g.email, page_size=1), timeout=TIMEOUT_S).guests
        ids[g.email] = found[0].guest_id
    return ids


def _all_trips(stub, pb) -> dict[str, str]:
    trips: dict[str, str] = {}
    token = ""
    while True:
        page = stub.ListTrips(pb.ListTripsRequest(page_size=100, page_token=token), timeout=TIMEOUT_S)
        trips.update({t.name: t.trip_id for t in page.trips})
        token = page.next_page_token
        if not token:
            return trips


def load_trips(channel: grpc.Channel, today: date | None = None) -> tuple[dict[str, str], dict[str, list[date]]]:
    from novatrek.catalog.v1 import catalog_pb2 as pb
    from novatrek.catalog.v1 import catalog_pb2_grpc

    stub = catalog_pb2_grpc.CatalogServiceStub(channel)
    today = today or datetime.now(UTC).date()
    existing = _all_trips(stub, pb)
    trips: dict[str, str] = {}
    departures: dict[str, list[date]] = {}
    for t in TRIPS:
        if t.name not in existing:
            trip = pb.Trip(
                name=t.name,
                description=t.description,
                price_per_person=money_to_proto(t.price, t.currency),
                active=True,
            )
            existing[t.name] = stub.CreateTrip(pb.CreateTripRequest(trip=trip), timeout=TIMEOUT_S).trip.trip_id
        trip_id = trips[t.name] = existing[t.name]
        start = date_to_proto(today)
        listed = stub.ListDepartures(
            pb.ListDeparturesRequest(trip_id=trip_id, start_date=start), timeout=TIMEOUT_S
        ).departures
        dates = sorted(date(d.departure_date.year, d.departure_date.month, d.departure_date.day) for d in listed)
        future = [d for d in dates if d > today]
        if not future:  # a new trip, or one whose demo departures have all gone by
            for offset, capacity in zip(DEPARTURE_OFFSETS_DAYS, CAPACITIES, strict=False):
                day = today + timedelta(days=offset)
                departure = pb.Departure(trip_id=trip_id, departure_date=date_to_proto(day), capacity=capacity)
                stub.CreateDeparture(pb.CreateDepartureRequest(departure=departure), timeout=TIMEOUT_S)
                future.append(day)
        departures[trip_id] = future
    return trips, departures


def load_partner(channel: grpc.Channel, admin_token: str, saved: Path, webhook_url: str = "") -> tuple[str, str, str]:
    """The demo partner, its API key and webhook secret: the one saved by an earlier `up` while its
    key still works and its webhook is `webhook_url`, else a newly registered one (the key is shown
    once, so it is kept in `saved`, 0600)."""
    from novatrek.partners.v1 import partners_pb2 as pb
    from novatrek.partners.v1 import partners_pb2_grpc

    stub, admin = partners_pb2_grpc.PartnerServiceStub(channel), (("authorization", f"Bearer {admin_token}"),)
    if saved.exists():
        known = json.loads(saved.read_text())
        try:
            stub.ListPartnerBookings(
                pb.ListPartnerBookingsRequest(page_size=1),
                timeout=TIMEOUT_S,
                metadata=(("authorization", f"Bearer {known['api_key']}"),),
            )
            webhook = stub.GetPartnerWebhook(
                pb.GetPartnerWebhookRequest(partner_id=known["partner_id"]), timeout=TIMEOUT_S, metadata=admin
            )
            if webhook.webhook_url == webhook_url:
                return known["partner_id"], known["api_key"], webhook.webhook_secret
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNAUTHENTICATED:
                raise
    plan = pb.CommissionPlan(
        basis=pb.TIER_BASIS_BOOKING_COUNT, tiers=[pb.CommissionTier(threshold=t, rate=r) for t, r in DEMO_PLAN_TIERS]
    )
    partner = pb.Partner(
        name=DEMO_PARTNER, contact_email="partners@demo.novatrek.io", webhook_url=webhook_url, commission_plan=plan
    )
    answer = stub.RegisterPartner(pb.RegisterPartnerRequest(partner=partner), timeout=TIMEOUT_S, metadata=admin)
    saved.touch(mode=0o600)
    saved.write_text(json.dumps({"partner_id": answer.partner.partner_id, "api_key": answer.api_key}))
    return answer.partner.partner_id, answer.api_key, answer.webhook_secret


def load_stock(channel: grpc.Channel) -> dict[str, int]:
    """Each demo SKU's available stock; a SKU inventory does not know yet is stocked (a known one,
    maybe sold from since, keeps its level)."""
    from novatrek.inventory.v1 import inventory_pb2 as pb
    from novatrek.inventory.v1 import inventory_pb2_grpc

    stub = inventory_pb2_grpc.InventoryServiceStub(channel)
    available: dict[str, int] = {}
    for gear in GEAR:
        try:
            stock = stub.GetStock(pb.GetStockRequest(sku=gear.sku), timeout=TIMEOUT_S).stock
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND:
                raise
            request = pb.SetStockLevelRequest(sku=gear.sku, name=gear.name, on_hand=gear.stock)
            stock = stub.SetStockLevel(request, timeout=TIMEOUT_S).stock
        available[gear.sku] = stock.available
    return available


def load(
    addresses: dict[str, str], admin_token: str = "", saved_partner: Path | None = None, webhook_url: str = ""
) -> DemoData:
    """Loads what the running services (name -> "host:port") can hold; the demo partner's booking
    confirmations go to `webhook_url`."""
    data = DemoData()
    if addr := addresses.get("guest-profiles"):
        with grpc.insecure_channel(addr) as channel:
            data.guests = load_guests(channel)
    if addr := addresses.get("trip-catalog"):
        with grpc.insecure_channel(addr) as channel:
            data.trips, data.departures = load_trips(channel)
    if (addr := addresses.get("partner-integrations")) and admin_token and saved_partner is not None:
        with grpc.insecure_channel(addr) as channel:
            data.partner_id, data.partner_key, data.webhook_secret = load_partner(
                channel, admin_token, saved_partner, webhook_url
            )
    if addr := addresses.get("inventory"):
        with grpc.insecure_channel(addr) as channel:
            data.stock = load_stock(channel)
    data.activities = demo_activities.load(addresses)
    email = demo_activities.CUSTOMER_EMAIL  # also the first demo guest's: the loyalty member
    data.network = demo_network.load(addresses, data.activities, data.guests.get(email, ""), email)
    return data
