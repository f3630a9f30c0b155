"""What `novatrek up` prints: the addresses, the demo data, and commands that work as printed."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import uuid
from pathlib import Path

from services.cli.demo import DEMO_PARTNER, GUESTS, DemoData


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


def banner(
    services: list[tuple[str, str, str]], infra: list[tuple[str, str]], data: DemoData, commands: list[str]
) -> str:
    """services: (name, address, proto service); infra: (label, description)."""
    rule = "=" * 78
    out = [rule, "NovaTrek mesh is up", ""]
    out += [f"  {name:<21} {addr:<22} {proto}" for name, addr, proto in services]
    out += [f"  {label:<21} {text}" for label, text in infra]
    if data.guests or data.trips:
        out += ["", "Demo data:"]
        out += [f"  guest  {gid}  {email}" for email, gid in data.guests.items()]
        for trip_name, tid in data.trips.items():
            days = ", ".join(d.isoformat() for d in data.departures.get(tid, []))
            out.append(f"  trip   {tid}  {trip_name}  (departures {days})")
    if data.partner_key:
        out += ["", f"Demo partner {data.partner_id} ({DEMO_PARTNER}), API key:", f"  {data.partner_key}"]
    out += ["", "Try:"] + [f"  {line}" for line in commands]
    out += ["", "Press Ctrl-C to stop.", rule]
    return "\n".join(out)
