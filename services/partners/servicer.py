"""PartnerService: authenticate, proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime

from novatrek.partners.v1 import partners_pb2 as pb
from novatrek.partners.v1 import partners_pb2_grpc

from services.chassis.context import deadline_var
from services.chassis.errors import Violations
from services.chassis.limits import EMAIL_MAX, EMAIL_RULE, MAX_PARTY_SIZE, is_email
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import date_from_proto, page_size, parse_uuid, timestamp
from services.chassis.text import Kind, text
from services.partners import commands, handlers
from services.partners.auth import Authenticator
from services.partners.domain import CommissionPlan
from services.partners.idempotency import ADMIN_SCOPE, Claim
from services.partners.protomap import BASIS_FROM_PB, STATUS_FROM_PB, booking_to_pb, partner_to_pb
from services.partners.reconcile import reconcile

WEBHOOK = re.compile(r"^(https://[^\s]+|http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(/[^\s]*)?)$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _idempotency_key(metadata, v: Violations, required: bool = True) -> str:
    key = next((value for name, value in metadata or () if name == "idempotency-key"), "")
    v.check(
        bool(IDEMPOTENCY_KEY.fullmatch(key)) or not (key or required),
        "idempotency-key",
        "metadata (HTTP header Idempotency-Key) of 1-255 visible ASCII characters is required",
    )
    return key


def _request_hash(request) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


class PartnerServicer(partners_pb2_grpc.PartnerServiceServicer):
    def __init__(
        self, deps: handlers.Deps, auth: Authenticator, page_tokens: PageTokens, pipeline_timeout_s: float
    ) -> None:
        self.deps, self.auth, self.tokens, self.pipeline_timeout_s = deps, auth, page_tokens, pipeline_timeout_s

    async def _caller(self, context):
        return await self.auth.identify(context.invocation_metadata())

    async def RegisterPartner(self, request, context):
        (await self._caller(context)).require_admin()
        v, p = Violations(), request.partner
        name, email = text(p.name, "partner.name", v, 200), text(p.contact_email, "partner.contact_email", v, EMAIL_MAX)
        v.check(not email or is_email(email), "partner.contact_email", EMAIL_RULE)
        webhook = text(p.webhook_url, "partner.webhook_url", v, 2000, required=False)
        v.check(
            not webhook or bool(WEBHOOK.fullmatch(webhook)),
            "partner.webhook_url",
            "must be an https URL (http only on loopback)",
        )
        key = _idempotency_key(context.invocation_metadata(), v, required=False)
        v.raise_if_any()
        tiers = [(t.threshold, t.rate) for t in p.commission_plan.tiers]
        plan = CommissionPlan.parse(BASIS_FROM_PB.get(p.commission_plan.basis), tiers)
        claim = Claim(ADMIN_SCOPE, key, _request_hash(request)) if key else None
        cmd = commands.NewPartner(name, email, webhook, plan)
        partner, api_key = await handlers.register_partner(cmd, self.deps, claim)
        return pb.RegisterPartnerResponse(
            partner=partner_to_pb(partner), api_key=api_key, webhook_secret=partner.webhook_secret
        )

    async def RotatePartnerApiKey(self, request, context):
        caller, v = await self._caller(context), Violations()
        partner_id = parse_uuid(request.partner_id, "partner_id", v)
        v.raise_if_any()
        api_key, expires = await handlers.rotate_key(caller, partner_id, self.deps)
        return pb.RotatePartnerApiKeyResponse(api_key=api_key, previous_key_expire_time=timestamp(expires))

    async def CreatePartnerBooking(self, request, context):
        caller, v = await self._caller(context), Violations()
        caller.require_partner()
        cmd = commands.NewBooking(
            idempotency_key=_idempotency_key(context.invocation_metadata(), v),
            request_hash=_request_hash(request),
            guest_id=parse_uuid(request.guest_id, "guest_id", v),
            first_name=text(request.guest_first_name, "guest_first_name", v, 100, False),
            last_name=text(request.guest_last_name, "guest_last_name", v, 100, False),
            email=text(request.guest_email, "guest_email", v, 254, False),
            trip_id=parse_uuid(request.trip_id, "trip_id", v),
            trip_date=date_from_proto(request.trip_date, "trip_date", v),
            party_size=request.party_size,
            partner_reference=text(request.partner_reference, "partner_reference", v, 100, False),
        )
        v.check(1 <= request.party_size <= MAX_PARTY_SIZE, "party_size", f"must be between 1 and {MAX_PARTY_SIZE}")
        v.check(
            v.refused("trip_date") or cmd.trip_date >= datetime.now(UTC).date(), "trip_date", "must not be in the past"
        )
        v.raise_if_any()
        if deadline_var.get() is None:  # a caller without deadline still gets a bounded pipeline
            deadline_var.set(time.monotonic() + self.pipeline_timeout_s)
        booking = await handlers.create_booking(cmd, caller.partner, self.deps)
        return pb.CreatePartnerBookingResponse(booking=booking_to_pb(booking))  # a replay renders the same bytes

    async def GetPartnerBooking(self, request, context):
        partner_id, v = (await self._caller(context)).require_partner(), Violations()
        booking_id = parse_uuid(request.booking_id, "booking_id", v)
        v.raise_if_any()
        return pb.GetPartnerBookingResponse(
            booking=booking_to_pb(await handlers.get_booking(partner_id, booking_id, self.deps))
        )

    async def ListPartnerBookings(self, request, context):
        partner_id, v = (await self._caller(context)).require_partner(), Violations()
        limit = page_size(request.page_size, v)
        v.check(request.status in STATUS_FROM_PB or request.status == 0, "status", "unknown status")
        filters = {
            "status": STATUS_FROM_PB[request.status].value if request.status in STATUS_FROM_PB else None,
            "date_from": date_from_proto(request.trip_date_from, "trip_date_from", v, required=False),
            "date_to": date_from_proto(request.trip_date_to, "trip_date_to", v, required=False),
        }
        position = self.tokens.decode(request.page_token, {**filters, "partner": str(partner_id)}, v)
        v.raise_if_any()
        found, after = await handlers.list_bookings(partner_id, filters, position, limit, self.deps)
        token = self.tokens.encode(after, {**filters, "partner": str(partner_id)}) if after else ""
        return pb.ListPartnerBookingsResponse(bookings=[booking_to_pb(b) for b in found], next_page_token=token)

    async def CancelPartnerBooking(self, request, context):
        partner_id, v = (await self._caller(context)).require_partner(), Violations()
        booking_id = parse_uuid(request.booking_id, "booking_id", v)
        reason = text(request.reason, "reason", v, 500, False, Kind.TEXT)
        v.raise_if_any()
        booking = await handlers.cancel_booking(partner_id, booking_id, reason, self.deps)
        return pb.CancelPartnerBookingResponse(booking=booking_to_pb(booking))

    async def GetPartnerWebhook(self, request, context):
        (await self._caller(context)).require_admin()
        v = Violations()
        partner_id = parse_uuid(request.partner_id, "partner_id", v)
        v.raise_if_any()
        partner = await handlers.get_partner(partner_id, self.deps)
        return pb.GetPartnerWebhookResponse(webhook_url=partner.webhook_url, webhook_secret=partner.webhook_secret)

    async def ReconcilePartnerBookings(self, request, context):
        caller, v = await self._caller(context), Violations()
        start = date_from_proto(request.start_date, "start_date", v)
        end = date_from_proto(request.end_date, "end_date", v)
        if not (v.refused("start_date") or v.refused("end_date")):
            v.check(start <= end, "end_date", "must not be before start_date")
            v.check((end - start).days <= 366, "end_date", "a range spans at most 366 days")
        v.raise_if_any()
        run_id, checked, issues = await reconcile(None if caller.admin else caller.partner_id, start, end, self.deps)
        discrepancies = [
            pb.Discrepancy(
                booking_id=str(d.booking_id),
                kind=pb.DiscrepancyKind.Value(f"DISCREPANCY_KIND_{d.kind}"),
                detail=d.detail,
            )
            for d in issues
        ]
        return pb.ReconcilePartnerBookingsResponse(
            reconciliation_id=str(run_id), bookings_checked=checked, discrepancies=discrepancies
        )
