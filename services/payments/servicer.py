"""PaymentService: proto -> command -> handler -> proto. No SQL, no business rules."""

from __future__ import annotations

from decimal import Decimal

from novatrek.payments.v1 import payments_pb2 as pb
from novatrek.payments.v1 import payments_pb2_grpc

from services.chassis.errors import Violations
from services.chassis.limits import MAX_PAYMENT_AMOUNT, PAYMENT_TOKEN_MAX, PAYMENT_TOKEN_RULE, is_card_number
from services.chassis.money import CURRENCY_MINOR_UNITS, quantize
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import money_from_proto, page_size, parse_uuid
from services.chassis.text import Kind, text
from services.payments import commands, handlers
from services.payments.domain import (
    REVERSAL_REASON_MAX,
    AuthorizationRequest,
    ChargeRequest,
    CommissionClaim,
)
from services.payments.protomap import PAYOUT_STATUS_FROM_PB, authorization_to_pb, payment_to_pb, payout_to_pb


def _amount(request, v: Violations, positive: bool) -> tuple[Decimal, str]:
    """The request's `amount`, exact: a known currency, at most its minor-unit decimals, below MAX_PAYMENT_AMOUNT."""
    if not v.check(request.HasField("amount"), "amount", "is required"):
        return Decimal(0), ""
    money = money_from_proto(request.amount, "amount", v)
    if money is None:
        return Decimal(0), ""
    amount, currency = money
    decimals = CURRENCY_MINOR_UNITS[currency]
    v.check(quantize(amount, currency) == amount, "amount.nanos", f"{currency} allows {decimals} decimals")
    v.check(
        amount > 0 if positive else amount >= 0, "amount", "must be positive" if positive else "must not be negative"
    )
    v.check(amount < MAX_PAYMENT_AMOUNT, "amount", f"must be below {MAX_PAYMENT_AMOUNT:f}")
    return quantize(amount, currency), currency


def _method_reference(value: str, v: Violations) -> str:
    method = text(value, "method_reference", v, PAYMENT_TOKEN_MAX)
    v.check(not is_card_number(method), "method_reference", PAYMENT_TOKEN_RULE)
    return method


class PaymentServicer(payments_pb2_grpc.PaymentServiceServicer):
    def __init__(self, deps: handlers.Deps, page_tokens: PageTokens) -> None:
        self.deps, self.tokens = deps, page_tokens

    async def ProcessPayment(self, request, context):
        v = Violations()
        request_id, reservation_id = (
            parse_uuid(request.request_id, "request_id", v),
            parse_uuid(request.reservation_id, "reservation_id", v),
        )
        amount, currency = _amount(request, v, positive=True)
        charge = ChargeRequest(
            request_id, reservation_id, amount, currency, _method_reference(request.method_reference, v)
        )
        v.raise_if_any()
        return pb.ProcessPaymentResponse(payment=payment_to_pb(await handlers.process_payment(charge, self.deps)))

    async def GetPayment(self, request, context):
        v = Violations()
        payment_id = parse_uuid(request.payment_id, "payment_id", v)
        v.raise_if_any()
        return pb.GetPaymentResponse(payment=payment_to_pb(await handlers.get_payment(payment_id, self.deps)))

    async def ProcessCommission(self, request, context):
        v = Violations()
        ids = {
            name: parse_uuid(getattr(request, name), name, v)
            for name in ("commission_record_id", "partner_id", "partner_booking_id", "reservation_id")
        }
        amount, currency = _amount(request, v, positive=False)
        claim = CommissionClaim(**ids, amount=amount, currency=currency)
        v.raise_if_any()
        return pb.ProcessCommissionResponse(payout=payout_to_pb(await handlers.process_commission(claim, self.deps)))

    async def ReverseCommission(self, request, context):
        v = Violations()
        record_id = parse_uuid(request.commission_record_id, "commission_record_id", v)
        reason = text(request.reason, "reason", v, REVERSAL_REASON_MAX, False, Kind.TEXT)
        v.raise_if_any()
        payout = await handlers.reverse_commission(record_id, reason, self.deps)
        return pb.ReverseCommissionResponse(payout=payout_to_pb(payout) if payout else None)

    async def ListPayouts(self, request, context):
        v = Violations()
        limit = page_size(request.page_size, v)
        v.check(
            request.status in PAYOUT_STATUS_FROM_PB or not request.status, "status", "must be a known payout status"
        )
        filters = {
            "partner_id": parse_uuid(request.partner_id, "partner_id", v, required=False),
            "status": request.status,
        }
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        query = commands.ListPayouts(filters["partner_id"], PAYOUT_STATUS_FROM_PB.get(request.status), position, limit)
        found, after = await handlers.list_payouts(query, self.deps)
        token = self.tokens.encode(after, filters) if after else ""
        return pb.ListPayoutsResponse(payouts=[payout_to_pb(p) for p in found], next_page_token=token)

    async def AuthorizePayment(self, request, context):
        v = Violations()
        checkout_id, guest_id = (
            parse_uuid(request.checkout_id, "checkout_id", v),
            parse_uuid(request.guest_id, "guest_id", v),
        )
        amount, currency = _amount(request, v, positive=True)
        method = _method_reference(request.method_reference, v)
        v.raise_if_any()
        authorization = await handlers.authorize_payment(
            AuthorizationRequest(checkout_id, guest_id, amount, currency, method), self.deps
        )
        return pb.AuthorizePaymentResponse(authorization=authorization_to_pb(authorization))

    async def GetAuthorization(self, request, context):
        v = Violations()
        authorization_id = parse_uuid(request.authorization_id, "authorization_id", v)
        v.raise_if_any()
        authorization = await handlers.get_authorization(authorization_id, self.deps)
        return pb.GetAuthorizationResponse(authorization=authorization_to_pb(authorization))

    async def CapturePayment(self, request, context):
        v = Violations()
        authorization_id = parse_uuid(request.authorization_id, "authorization_id", v)
        v.raise_if_any()
        authorization = await handlers.capture_payment(authorization_id, self.deps)
        return pb.CapturePaymentResponse(authorization=authorization_to_pb(authorization))

    async def VoidAuthorization(self, request, context):
        v = Violations()
        both_or_neither = bool(request.authorization_id) == bool(request.checkout_id)
        for name in ("authorization_id", "checkout_id"):
            v.check(not both_or_neither, name, "exactly one of authorization_id and checkout_id is required")
        cmd = commands.VoidAuthorization(
            parse_uuid(request.authorization_id, "authorization_id", v, required=False),
            parse_uuid(request.checkout_id, "checkout_id", v, required=False),
            text(request.reason, "reason", v, REVERSAL_REASON_MAX, False, Kind.TEXT),
        )
        v.raise_if_any()
        authorization = await handlers.void_authorization(cmd, self.deps)
        return pb.VoidAuthorizationResponse(authorization=authorization_to_pb(authorization) if authorization else None)
