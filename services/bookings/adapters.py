"""The ports over the typed clients of businesses, catalog, passes, wallet and payments. A peer's
status arrives as a chassis error with its reason (clients.channel.remote_error); here the answers
become the ports' values and a decline a domain error."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from novatrek.catalog.v1 import catalog_pb2
from novatrek.payments.v1 import payments_pb2

from clients.businesses import BusinessesClient
from clients.catalog import CatalogClient
from clients.passes import PassClient
from clients.payments import PaymentsClient
from clients.wallet import WalletClient
from services.bookings.domain import PaymentDeclined
from services.bookings.ports import Customer, ExtraInfo, SessionInfo, WalletMoves
from services.chassis.errors import FailedPrecondition, NotFound
from services.chassis.protoconv import decimal_of


def _instant(ts: Any) -> datetime:
    instant: datetime = ts.ToDatetime(tzinfo=UTC)
    return instant


def customer_of(c: Any) -> Customer:
    return Customer(uuid.UUID(c.customer_id), uuid.UUID(c.company_id), c.user_id)


class CustomersOverGrpc:
    def __init__(self, client: BusinessesClient) -> None:
        self.client = client

    async def resolve(self, company_id: uuid.UUID, user_id: str) -> Customer:
        return customer_of(await self.client.resolve_customer(str(company_id), user_id))

    async def get(self, customer_id: uuid.UUID) -> Customer:
        return customer_of(await self.client.customer(str(customer_id)))

    async def register(self, company_id: uuid.UUID, email: str, full_name: str) -> Customer:
        return customer_of(await self.client.register_customer(str(company_id), email, full_name))


class CatalogOverGrpc:
    def __init__(self, client: CatalogClient) -> None:
        self.client = client

    async def session(self, session_id: uuid.UUID) -> SessionInfo:
        s = await self.client.get_session(str(session_id))
        price = decimal_of(s.price)
        return SessionInfo(
            uuid.UUID(s.session_id),
            uuid.UUID(s.company_id),
            uuid.UUID(s.activity_id),
            _instant(s.start_time),
            _instant(s.end_time),
            price,
            s.price.currency_code,
            s.status == catalog_pb2.SESSION_STATUS_SCHEDULED,
        )

    async def extras(self, activity_id: uuid.UUID) -> list[ExtraInfo]:
        found = await self.client.list_extras(str(activity_id))
        return [
            ExtraInfo(
                uuid.UUID(x.extra_id),
                uuid.UUID(x.activity_id),
                x.name,
                decimal_of(x.unit_price),
                x.unit_price.currency_code,
            )
            for x in found
        ]

    async def hold(self, session_id: uuid.UUID, booking_id: uuid.UUID) -> None:
        await self.client.hold_session_seats(str(session_id), str(booking_id), 1)

    async def release(self, session_id: uuid.UUID, booking_id: uuid.UUID) -> None:
        with contextlib.suppress(NotFound):  # no such session: nothing held, nothing to release
            await self.client.release_session_seats(str(session_id), str(booking_id))


class PassesOverGrpc:
    def __init__(self, client: PassClient) -> None:
        self.client = client

    async def consume(
        self,
        entitlement_id: uuid.UUID,
        booking_id: uuid.UUID,
        customer_id: uuid.UUID,
        activity_id: uuid.UUID,
        start: datetime,
    ) -> None:
        try:
            await self.client.consume(str(entitlement_id), str(booking_id), str(customer_id), str(activity_id), start)
        except NotFound as missing:  # another customer's, or none: the booking fails, compensated
            raise FailedPrecondition(
                str(missing), reason="ENTITLEMENT_NOT_FOUND", metadata=missing.metadata
            ) from missing

    async def restore(self, entitlement_id: uuid.UUID, booking_id: uuid.UUID) -> bool:
        answer = await self.client.restore(str(entitlement_id), str(booking_id))
        return bool(answer.restored)


class WalletOverGrpc:
    def __init__(self, client: WalletClient) -> None:
        self.client = client

    async def debit(
        self, operation_id: uuid.UUID, customer_id: uuid.UUID, company_id: uuid.UUID, amount: Decimal, currency: str
    ) -> WalletMoves:
        answer = await self.client.debit(str(operation_id), str(customer_id), str(company_id), amount, currency)
        return WalletMoves(decimal_of(answer.transaction.cash), decimal_of(answer.transaction.bonus))

    async def refund(self, operation_id: uuid.UUID, debit_operation_id: uuid.UUID) -> WalletMoves:
        answer = await self.client.refund(str(operation_id), str(debit_operation_id))
        return WalletMoves(decimal_of(answer.transaction.cash), decimal_of(answer.transaction.bonus))


class CardsOverGrpc:
    def __init__(self, client: PaymentsClient) -> None:
        self.client = client

    async def authorize(
        self, key: uuid.UUID, customer_id: uuid.UUID, amount: Decimal, currency: str, token: str
    ) -> str:
        auth = await self.client.authorize(str(key), str(customer_id), amount, currency, token)
        if auth.status == payments_pb2.AUTHORIZATION_STATUS_DECLINED:
            raise PaymentDeclined(auth.decline_reason or "declined")
        if auth.status not in (
            payments_pb2.AUTHORIZATION_STATUS_AUTHORIZED,
            payments_pb2.AUTHORIZATION_STATUS_CAPTURED,
        ):
            status = payments_pb2.AuthorizationStatus.Name(auth.status)
            raise FailedPrecondition(
                f"authorization {auth.authorization_id} is {status}", reason="AUTHORIZATION_NOT_USABLE"
            )
        return auth.authorization_id

    async def capture(self, authorization_id: str) -> None:
        await self.client.capture(authorization_id)

    async def void_authorization(self, authorization_id: str) -> None:
        await self.client.void(authorization_id=authorization_id, reason="booking cancelled")

    async def void(self, key: uuid.UUID) -> None:
        await self.client.void(checkout_id=str(key), reason="booking failed")
