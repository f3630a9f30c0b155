"""The banner's second ring (seeds 002 and 004): the demo companies, customer and network, and lines
that work as printed: session bookings over the gateway, coalition loyalty over gRPC."""

from __future__ import annotations

import json
import shlex
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from services.cli.demo_activities import CUSTOMER_EMAIL
from services.cli.demo_network import NETWORK_NAME

if TYPE_CHECKING:
    from services.cli.demo import DemoData

LOYALTY, NETWORK = "novatrek.loyalty.v1.LoyaltyService", "novatrek.network.v1.PartnerNetworkService"


def activities_lines(data: DemoData) -> list[str]:
    demo = data.activities
    if not demo.companies:
        return []
    out = [
        f"  company {cid}  {name}  ({len(demo.sessions.get(cid, []))} sessions to come)"
        for name, cid in demo.companies.items()
    ]
    if demo.customer_id:
        out.append(
            f"  customer {demo.customer_id}  {CUSTOMER_EMAIL} (user {demo.user_id}; wallet topped up, "
            f"pass entitlement {demo.entitlement_id})"
        )
    if data.network.network_id:
        founder, partner = data.network.companies
        out.append(f"  network {data.network.network_id}  {NETWORK_NAME} (members {founder}, {partner})")
    return out


def booking_commands(addresses: dict[str, str], data: DemoData) -> list[str]:
    """Session bookings over the gateway: the public guest path (no token, card), and the demo
    customer's own bookings with the printed bearer token (a wallet-paid booking, then the list)."""
    demo = data.activities
    gateway = addresses.get("gateway")
    company_id = next(iter(demo.companies.values()), "")
    sessions = demo.sessions.get(company_id, [])
    if not (gateway and "bookings" in addresses and sessions):
        return []
    json_header = "-H 'Content-Type: application/json'"
    guest = {"bookingId": str(uuid.uuid4()), "email": "grace.hopper@example.com", "fullName": "Grace Hopper"}
    lines = [
        f"curl -s -X POST http://{gateway}/api/client/guest/companies/{company_id}/sessions/{sessions[0]}/bookings "
        f"{json_header} -d {shlex.quote(json.dumps({**guest, 'methodReference': 'tok_demo'}))}"
    ]
    if data.client_token:
        bearer = shlex.quote(f"Authorization: Bearer {data.client_token}")
        booking = {
            "bookingId": str(uuid.uuid4()),
            "companyId": company_id,
            "sessionId": sessions[-1],
            "payment": {"method": "PAYMENT_METHOD_WALLET"},
        }
        lines += [
            f"curl -s -X POST http://{gateway}/api/client/bookings -H {bearer} {json_header} "
            f"-d {shlex.quote(json.dumps(booking))}",
            f"curl -s http://{gateway}/api/client/my-bookings -H {bearer}",
        ]
    return lines


def network_commands(addresses: dict[str, str], data: DemoData, grpcurl: str = "novatrek grpcurl") -> list[str]:
    """Coalition loyalty in three lines: the demo guest earns points at the network's founder, redeems
    some at the other member (a cross-business transaction), and today's revenue is settled."""
    net = data.network
    loyalty, network = addresses.get("loyalty"), addresses.get("partner-network")
    if not (net.network_id and loyalty and network):
        return []
    founder, partner = net.companies
    earn = {"operation_id": str(uuid.uuid4()), "member_id": net.member_id, "company_id": founder, "points": 500}
    redeem = {
        "operation_id": str(uuid.uuid4()),
        "network_id": net.network_id,
        "member_id": net.member_id,
        "company_id": partner,
        "points": 200,
    }
    today = datetime.now(UTC).date()
    period = {"network_id": net.network_id, "period_start": _day(today), "period_end": _day(today + timedelta(days=1))}
    service = NETWORK
    return [
        f"{grpcurl} -plaintext -d {shlex.quote(json.dumps(earn))} {loyalty} {LOYALTY}/EarnPoints",
        f"{grpcurl} -plaintext -d {shlex.quote(json.dumps(redeem))} {network} {service}/RedeemAcrossNetwork",
        f"{grpcurl} -plaintext -d {shlex.quote(json.dumps(period))} {network} {service}/SettleRevenue",
    ]


def _day(day: date) -> dict:
    return {"year": day.year, "month": day.month, "day": day.day}
