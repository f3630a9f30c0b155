"""What `novatrek up` prints: the addresses, the demo data, and commands that work as printed."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import uuid
from pathlib import Path

from google.protobuf import json_format

from services.chassis.protoconv import money_to_proto
from services.cli.banner_activities import activities_lines, booking_commands, network_commands
from services.cli.demo import DEMO_PARTNER, GEAR, GUESTS, DemoData
from services.cli.demo_activities import CUSTOMER_EMAIL


def novatrek_command() -> str:
    """`novatrek` as this user can type it: the bare name when it is on PATH, else the path of the venv's."""
    script = Path(sys.executable).parent / "novatrek"
    on_path = shutil.which("novatrek")
    if not script.exists() or (on_path and Path(on_path).resolve() == script.resolve()):
        return "novatrek"
    return shlex.quote(os.path.relpath(script) if script.is_relative_to(Path.cwd()) else str(script))


def try_commands(addresses: dict[str, str], data: DemoData, grpcurl: str = "novatrek grpcurl") -> list[str]:
    """Lines that work against the running mesh as printed: grpcurl `list`, calls with demo ids, a curl."""
    name = next(
        (n for n in ("reservations", "trip-catalog", "guest-profiles") if n in addresses), next(iter(addresses))
    )
    addr = addresses[name]
    lines = [f"{grpcurl} -plaintext {addr} list"]
    guest_id = next(iter(data.guests.values()), "")
    trip_id = next((t for t in data.trips.values() if data.departures.get(t)), "")
    if name == "reservations" and guest_id and trip_id:
        day = data.departures[trip_id][0]
        body = {
            "request_id": str(uuid.uuid4()),
            "guest_id": guest_id,
            "trip_id": trip_id,
            "trip_date": {"year": day.year, "month": day.month, "day": day.day},
            "party_size": 2,
        }
        lines.append(
            f"{grpcurl} -plaintext -d {shlex.quote(json.dumps(body))} {addr} "
            "novatrek.reservations.v1.ReservationService/CreateReservation"
        )
    if (partners := addresses.get("partner-integrations")) and data.partner_key and guest_id and trip_id:
        day = data.departures[trip_id][0]
        body = {
            "guest_id": guest_id,
            "trip_id": trip_id,
            "trip_date": {"year": day.year, "month": day.month, "day": day.day},
            "party_size": 2,
            "partner_reference": "DEMO-1",
        }
        lines.append(
            f"{grpcurl} -plaintext -H {shlex.quote('authorization: Bearer ' + data.partner_key)} "
            f"-H 'idempotency-key: demo-{uuid.uuid4().hex[:12]}' -d {shlex.quote(json.dumps(body))} "
            f"{partners} novatrek.partners.v1.PartnerService/CreatePartnerBooking"
        )
    if (
        (gateway := addresses.get("gateway")) and data.partner_key and guest_id and trip_id
    ):  # the same booking over REST
        day = data.departures[trip_id][0]
        body = {
            "guestId": guest_id,
            "tripId": trip_id,
            "tripDate": {"year": day.year, "month": day.month, "day": day.day},
            "partySize": 2,
        }
        lines.append(
            f"curl -s -X POST http://{gateway}/v1/bookings "
            f"-H {shlex.quote('Authorization: Bearer ' + data.partner_key)} "
            f"-H 'Idempotency-Key: demo-{uuid.uuid4().hex[:12]}' -H 'Content-Type: application/json' "
            f"-d {shlex.quote(json.dumps(body))}"
        )
    if (notifications := addresses.get("notifications")) and data.partner_id:  # the booking's webhook delivery
        query = json.dumps({"partner_id": data.partner_id, "page_size": 5})
        lines.append(
            f"{grpcurl} -plaintext -d {shlex.quote(query)} {notifications} "
            "novatrek.notifications.v1.NotificationService/ListNotifications"
        )
    lines += ordering_commands(addresses, data, grpcurl)
    lines += booking_commands(addresses, data)
    lines += network_commands(addresses, data, grpcurl)
    if name == "trip-catalog":
        lines.append(
            f"{grpcurl} -plaintext -d '{{\"page_size\": 10}}' {addr} novatrek.catalog.v1.CatalogService/ListTrips"
        )
    elif name == "guest-profiles" and guest_id:
        lines.append(
            f'{grpcurl} -plaintext -d \'{{"email": "{GUESTS[0].email}"}}\' {addr} '
            "novatrek.guests.v1.GuestService/SearchGuests"
        )
    return lines


def ordering_commands(addresses: dict[str, str], data: DemoData, grpcurl: str = "novatrek grpcurl") -> list[str]:
    """A demo SKU's stock, and a checkout of demo gear once a checkout service runs."""
    lines = []
    sku = next((g.sku for g in GEAR if data.stock.get(g.sku)), "")
    if (inventory := addresses.get("inventory")) and sku:
        lines.append(
            f"{grpcurl} -plaintext -d {shlex.quote(json.dumps({'sku': sku}))} {inventory} "
            "novatrek.inventory.v1.InventoryService/GetStock"
        )
    if checkout := addresses.get("checkout"):
        lines += checkout_command(checkout, data, grpcurl)
    return lines


def _json(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def checkout_command(checkout: str, data: DemoData, grpcurl: str = "novatrek grpcurl") -> list[str]:
    """CheckoutCart of two demo items in stock at the demo prices (the cart's), for the first demo guest;
    a fresh cart id each time, and a payment token the fake processor authorizes."""
    guest_id = next(iter(data.guests.values()), "")
    gear = [g for g in GEAR if data.stock.get(g.sku, 0) >= 2][:2]
    if not (guest_id and gear):
        return []
    cart_lines = [
        {"sku": g.sku, "name": g.name, "unit_price": _json(money_to_proto(g.price, g.currency)), "quantity": 1 + i}
        for i, g in enumerate(gear)
    ]
    body = {"cart_id": str(uuid.uuid4()), "guest_id": guest_id, "lines": cart_lines, "payment_method_token": "tok_demo"}
    return [
        f"{grpcurl} -plaintext -d {shlex.quote(json.dumps(body))} {checkout} "
        "novatrek.checkout.v1.CheckoutService/CheckoutCart"
    ]


def banner(
    services: list[tuple[str, str, str]], infra: list[tuple[str, str]], data: DemoData, commands: list[str]
) -> str:
    """services: (name, address, proto service); infra: (label, description)."""
    rule = "=" * 78
    out = [rule, "NovaTrek mesh is up", ""]
    out += [f"  {name:<21} {addr:<22} {proto}" for name, addr, proto in services]
    out += [f"  {label:<21} {text}" for label, text in infra]
    if data.guests or data.trips or data.stock or data.activities.companies:
        out += ["", "Demo data:"]
        out += [f"  guest  {gid}  {email}" for email, gid in data.guests.items()]
        for trip_name, tid in data.trips.items():
            days = ", ".join(d.isoformat() for d in data.departures.get(tid, []))
            out.append(f"  trip   {tid}  {trip_name}  (departures {days})")
    out += [
        f"  gear   {g.sku:<17} {g.currency} {g.price:>6}  {data.stock[g.sku]:>3} available  {g.name}"
        for g in GEAR
        if g.sku in data.stock
    ]
    out += activities_lines(data)
    if data.client_token:
        who = f"{CUSTOMER_EMAIL}, user {data.activities.user_id}"
        out += [
            "",
            f"Demo customer token ({who}; the client surface's Bearer token, 7 days):",
            f"  {data.client_token}",
        ]
    if data.partner_key:
        out += ["", f"Demo partner {data.partner_id} ({DEMO_PARTNER}), API key:", f"  {data.partner_key}"]
    out += ["", "Try:"] + [f"  {line}" for line in commands]
    out += ["", "Press Ctrl-C to stop.", rule]
    return "\n".join(out)
