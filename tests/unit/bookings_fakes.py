"""Bookings' ports in memory: businesses, catalog (seats), passes (usages), wallet (cash + bonus
ledger), cards (authorizations by key), with the tombstones the real peers leave; the bookings unit
of work over a dict; the saga on an in-memory store. Calls are recorded in `world.calls`; a call named
in `world.failing` raises that error instead."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from services.bookings.domain import Booking, PaymentDeclined
from services.bookings.ports import Customer, ExtraInfo, SessionInfo, WalletMoves
from services.chassis.errors import FailedPrecondition, NotFound

EUR = "EUR"


@dataclass
class World:
    calls: list[str] = field(default_factory=list)
    failing: dict[str, BaseException] = field(default_factory=dict)
    customers: dict[uuid.UUID, Customer] = field(default_factory=dict)
    sessions: dict[uuid.UUID, SessionInfo] = field(default_factory=dict)
    extras: list[ExtraInfo] = field(default_factory=list)
    seats: set[uuid.UUID] = field(default_factory=set)  # bookings holding a seat
    released: set[uuid.UUID] = field(default_factory=set)  # tombstones
    capacity: int = 10
    remaining: dict[uuid.UUID, int] = field(default_factory=dict)  # entitlement -> sessions left
    usages: set[uuid.UUID] = field(default_factory=set)
    wallets: dict[uuid.UUID, list[Decimal]] = field(default_factory=dict)  # customer -> [cash, bonus]
    debits: dict[uuid.UUID, tuple[uuid.UUID, Decimal, Decimal]] = field(default_factory=dict)
    refunded: set[uuid.UUID] = field(default_factory=set)  # debit ops refunded (or tombstoned)
    auths: dict[str, str] = field(default_factory=dict)  # authorization id -> status
    bookings: dict[uuid.UUID, Booking] = field(default_factory=dict)
    claims: dict[uuid.UUID, dict] = field(default_factory=dict)  # booking -> due/until/kind/key
    refund_claims: dict[uuid.UUID, datetime] = field(default_factory=dict)
    events: list = field(default_factory=list)

    def call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise self.failing[name]


class Customers:
    def __init__(self, w: World) -> None:
        self.w = w

    async def resolve(self, company_id, user_id):
        self.w.call("businesses.resolve")
        for c in self.w.customers.values():
            if c.company_id == company_id and c.user_id == user_id:
                return c
        raise NotFound("no customer", reason="CUSTOMER_NOT_FOUND")

    async def get(self, customer_id):
        self.w.call("businesses.get")
        if customer_id not in self.w.customers:
            raise NotFound("no customer", reason="CUSTOMER_NOT_FOUND")
        return self.w.customers[customer_id]

    async def register(self, company_id, email, full_name):
        self.w.call("businesses.register")
        c = Customer(uuid.uuid5(company_id, email), company_id, "")
        return self.w.customers.setdefault(c.customer_id, c)


class Catalog:
    def __init__(self, w: World) -> None:
        self.w = w

    async def session(self, session_id):
        self.w.call("catalog.session")
        if session_id not in self.w.sessions:
            raise NotFound("no session", reason="SESSION_NOT_FOUND")
        return self.w.sessions[session_id]

    async def extras(self, activity_id):
        self.w.call("catalog.extras")
        return [x for x in self.w.extras if x.activity_id == activity_id]

    async def hold(self, session_id, booking_id):
        self.w.call("catalog.hold")
        if booking_id in self.w.released:
            raise FailedPrecondition("released", reason="HOLD_RELEASED")
        if booking_id not in self.w.seats and len(self.w.seats) >= self.w.capacity:
            raise FailedPrecondition("sold out", reason="SOLD_OUT")
        self.w.seats.add(booking_id)

    async def release(self, session_id, booking_id):
        self.w.call("catalog.release")
        if booking_id not in self.w.seats:
            self.w.released.add(booking_id)
        self.w.seats.discard(booking_id)


class Passes:
    def __init__(self, w: World) -> None:
        self.w = w

    async def consume(self, entitlement_id, booking_id, customer_id, activity_id, start):
        self.w.call("passes.consume")
        if booking_id in self.w.usages:
            return
        if self.w.remaining.get(entitlement_id, 0) <= 0:
            raise FailedPrecondition("exhausted", reason="ENTITLEMENT_EXHAUSTED")
        self.w.remaining[entitlement_id] -= 1
        self.w.usages.add(booking_id)

    async def restore(self, entitlement_id, booking_id):
        self.w.call("passes.restore")
        if booking_id not in self.w.usages:
            return False
        self.w.usages.discard(booking_id)
        self.w.remaining[entitlement_id] += 1
        return True


class Wallet:
    def __init__(self, w: World) -> None:
        self.w = w

    async def debit(self, operation_id, customer_id, company_id, amount, currency):
        self.w.call("wallet.debit")
        if operation_id in self.w.refunded:
            raise FailedPrecondition("refunded", reason="DEBIT_REFUNDED")
        if operation_id in self.w.debits:
            _, cash, bonus = self.w.debits[operation_id]
            return WalletMoves(cash, bonus)
        balance = self.w.wallets.setdefault(customer_id, [Decimal(0), Decimal(0)])
        if sum(balance) < amount:
            raise FailedPrecondition("insufficient", reason="INSUFFICIENT_FUNDS")
        bonus = min(balance[1], amount)
        cash = amount - bonus
        balance[0] -= cash
        balance[1] -= bonus
        self.w.debits[operation_id] = (customer_id, cash, bonus)
        return WalletMoves(cash, bonus)

    async def refund(self, operation_id, debit_operation_id):
        self.w.call("wallet.refund")
        if debit_operation_id in self.w.refunded or debit_operation_id not in self.w.debits:
            self.w.refunded.add(debit_operation_id)
            return WalletMoves(Decimal(0), Decimal(0))
        customer, cash, bonus = self.w.debits[debit_operation_id]
        self.w.wallets[customer][0] += cash
        self.w.wallets[customer][1] += bonus
        self.w.refunded.add(debit_operation_id)
        return WalletMoves(cash, bonus)

    def balance(self, customer_id) -> tuple[Decimal, Decimal]:
        cash, bonus = self.w.wallets.get(customer_id, [Decimal(0), Decimal(0)])
        return cash, bonus


class Cards:
    def __init__(self, w: World) -> None:
        self.w = w

    async def authorize(self, key, customer_id, amount, currency, token):
        auth = f"auth-{key}"
        if self.w.auths.get(auth) == "voided" and token != "":
            raise FailedPrecondition("voided first", reason="AUTHORIZATION_VOIDED")
        if token.startswith("decline"):
            self.w.call("cards.authorize")
            raise PaymentDeclined("insufficient_funds")
        self.w.auths.setdefault(auth, "authorized")  # held even if the answer is lost
        self.w.call("cards.authorize")
        return auth

    async def capture(self, authorization_id):
        self.w.call("cards.capture")
        self.w.auths[authorization_id] = "captured"

    async def void_authorization(self, authorization_id):
        self.w.call("cards.void")
        status = self.w.auths.get(authorization_id)
        self.w.auths[authorization_id] = "refunded" if status == "captured" else "voided"

    async def void(self, key):
        await self.void_authorization(f"auth-{key}")

    def holding(self) -> list[str]:
        return [a for a, s in self.w.auths.items() if s in ("authorized", "captured")]
