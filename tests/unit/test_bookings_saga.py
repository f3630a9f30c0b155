"""The Booking Saga on in-memory fakes of its peers: each payment mode confirmed, each failure
compensated (no seat, no usage, no debit, no card hold left), idempotency per booking id, and the
refusals of the read phase."""

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from services.bookings.commands import CreateBooking, ExtraLine, Who
from services.bookings.domain import BookingStatus, BookingType, PaymentMethod, PaymentStatus
from services.bookings.handlers import create_booking, get_booking
from services.bookings.ports import ExtraInfo
from services.chassis.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from tests.unit.bookings_fakes import EUR
from tests.unit.bookings_store_fakes import InMemoryBookings

ENTITLEMENT = uuid.uuid4()


def command(svc: InMemoryBookings, session, method=PaymentMethod.WALLET, **kw) -> CreateBooking:
    fields = {
        "booking_id": uuid.uuid4(), "company_id": svc.company, "session_id": session, "who": Who(user_id="user-1"),
        "type": BookingType.STANDARD, "extras": (), "method": method,
        "entitlement_id": ENTITLEMENT if method is PaymentMethod.PASS else None,
        "method_reference": "tok_visa" if method is PaymentMethod.CARD else "",
    }  # fmt: skip
    return CreateBooking(**(fields | kw))


def funded(svc: InMemoryBookings, cash="100", bonus="0") -> InMemoryBookings:
    svc.world.wallets[svc.customer.customer_id] = [Decimal(cash), Decimal(bonus)]
    svc.world.remaining[ENTITLEMENT] = 1
    return svc


def nothing_left(svc: InMemoryBookings) -> bool:
    w = svc.world
    return not (w.seats or w.usages or svc.cards.holding()) and w.wallets[svc.customer.customer_id] == [
        Decimal(100),
        Decimal(0),
    ]


@pytest.mark.parametrize(
    ("method", "taken"),
    [
        (PaymentMethod.PASS, ["passes.consume"]),
        (PaymentMethod.WALLET, ["wallet.debit"]),
        (PaymentMethod.CARD, ["cards.authorize"]),
    ],
)
async def test_each_payment_mode_holds_the_seat_takes_the_money_and_confirms(method, taken):
    svc = funded(InMemoryBookings())
    done = await create_booking(command(svc, svc.session(), method), svc.deps)
    capture = ["cards.capture"] if method is PaymentMethod.CARD else []
    reads = ["businesses.resolve", "catalog.session"]
    assert svc.world.calls == [*reads, "bookings.claim", "catalog.hold", *taken, "bookings.confirm", *capture]
    assert (done.status, done.payment_status, done.user_id) == (BookingStatus.CONFIRMED, PaymentStatus.PAID, "user-1")
    assert [type(e).__name__ for e in svc.world.events] == ["BookingConfirmed", "BookingPaid"]
    assert svc.store.only()["status"] == "completed" and svc.world.seats == {done.booking_id}
    if method is PaymentMethod.WALLET:
        assert (done.wallet_cash, done.wallet_bonus) == (Decimal("30.00"), Decimal(0))
    if method is PaymentMethod.CARD:
        assert svc.world.auths == {done.authorization_id: "captured"}


async def test_the_wallet_spends_bonus_first_and_the_booking_records_the_split():
    svc = funded(InMemoryBookings(), cash="100", bonus="10")
    done = await create_booking(command(svc, svc.session()), svc.deps)
    assert (done.wallet_cash, done.wallet_bonus, done.total) == (Decimal(20), Decimal(10), Decimal("30.00"))


@pytest.mark.parametrize(
    ("method", "failing", "error", "reason"),
    [
        (PaymentMethod.WALLET, "catalog.hold", FailedPrecondition("full", reason="SOLD_OUT"), "SOLD_OUT"),
        (PaymentMethod.PASS, "passes.consume", FailedPrecondition("no", reason="ENTITLEMENT_EXHAUSTED"), None),
        (PaymentMethod.WALLET, "wallet.debit", FailedPrecondition("poor", reason="INSUFFICIENT_FUNDS"), None),
        (PaymentMethod.WALLET, "wallet.debit", FailedPrecondition("eur", reason="CURRENCY_MISMATCH"), None),
        (PaymentMethod.WALLET, "wallet.debit", Unavailable("wallet is down"), "DEPENDENCY_UNAVAILABLE"),
        (PaymentMethod.CARD, "cards.authorize", Unavailable("payments is down"), "DEPENDENCY_UNAVAILABLE"),
    ],
)
async def test_a_failed_step_fails_the_booking_and_compensates_everything(method, failing, error, reason):
    svc = funded(InMemoryBookings())
    svc.world.failing[failing] = error
    failed = await create_booking(command(svc, svc.session(), method), svc.deps)
    assert (failed.status, failed.failure_reason) == (BookingStatus.FAILED, reason or error.reason)
    assert failed.payment_status is PaymentStatus.UNPAID and nothing_left(svc)
    assert svc.store.only()["status"] == "compensated" and svc.world.events == []
    assert "catalog.release" in svc.world.calls  # the hold is undone even when it failed (lost answer)


async def test_a_declined_card_fails_the_booking_with_nothing_held():
    svc = funded(InMemoryBookings())
    failed = await create_booking(command(svc, svc.session(), PaymentMethod.CARD, method_reference="decline"), svc.deps)
    assert (failed.status, failed.failure_reason) == (BookingStatus.FAILED, "PAYMENT_DECLINED")
    assert nothing_left(svc) and svc.world.calls[-3:] == ["cards.void", "catalog.release", "bookings.fail"]


async def test_a_booking_id_is_booked_once_and_another_body_under_it_is_refused():
    svc = funded(InMemoryBookings())
    first = command(svc, svc.session())
    done = await create_booking(first, svc.deps)
    again = await create_booking(first, svc.deps)
    assert again == done and svc.world.calls.count("wallet.debit") == 1 and len(svc.store.rows) == 1
    with pytest.raises(InvalidArgument) as refused:
        await create_booking(command(svc, first.session_id, PaymentMethod.CARD, booking_id=first.booking_id), svc.deps)
    assert refused.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_extras_are_snapshotted_and_priced_into_the_total():
    svc = funded(InMemoryBookings())
    extra = ExtraInfo(uuid.uuid4(), svc.activity, "Helmet", Decimal("4.50"), EUR)
    svc.world.extras.append(extra)
    done = await create_booking(command(svc, svc.session(), extras=(ExtraLine(extra.extra_id, 2),)), svc.deps)
    assert [(e.name, e.unit_price, e.quantity) for e in done.extras] == [("Helmet", Decimal("4.50"), 2)]
    assert done.total == Decimal("39.00") and svc.world.wallets[svc.customer.customer_id][0] == Decimal("61.00")


@pytest.mark.parametrize(
    ("change", "error", "reason"),
    [
        ("other_company", NotFound, "SESSION_NOT_FOUND"),
        ("started", FailedPrecondition, "SESSION_NOT_BOOKABLE"),
        ("unknown_extra", FailedPrecondition, "EXTRA_NOT_AVAILABLE"),
        ("extra_in_usd", FailedPrecondition, "CURRENCY_MISMATCH"),
        ("unknown_user", NotFound, "CUSTOMER_NOT_FOUND"),
    ],
)
async def test_the_read_phase_refuses_without_writing_anything(change, error, reason):
    svc = funded(InMemoryBookings())
    session = svc.session(starts_in_h=-1 if change == "started" else 24)
    kw: dict = {}
    if change == "other_company":
        svc.world.sessions[session] = replace(svc.world.sessions[session], company_id=uuid.uuid4())
    if change in ("unknown_extra", "extra_in_usd"):
        extra = ExtraInfo(uuid.uuid4(), svc.activity, "Meal", Decimal(5), "USD")
        svc.world.extras.append(extra)
        kw["extras"] = (ExtraLine(extra.extra_id if change == "extra_in_usd" else uuid.uuid4(), 1),)
    if change == "unknown_user":
        kw["who"] = Who(user_id="stranger")
    with pytest.raises(error) as refused:
        await create_booking(command(svc, session, **kw), svc.deps)
    assert refused.value.reason == reason and not svc.world.bookings and not svc.store.rows


async def test_a_compensation_waiting_for_a_peer_answers_why_and_recovery_keeps_the_reason():
    svc = funded(InMemoryBookings())
    down = Unavailable("wallet is down", reason="DEPENDENCY_UNAVAILABLE")
    svc.world.failing |= {"wallet.debit": down, "wallet.refund": down}
    waiting = await create_booking(command(svc, svc.session()), svc.deps)
    assert (waiting.status, waiting.failure_reason) == (BookingStatus.PENDING, "DEPENDENCY_UNAVAILABLE")
    del svc.world.failing["wallet.refund"]
    svc.clock.advance(31)  # the saga's lease ran out: recovery compensates it, knowing no cause itself
    assert await svc.runner.recover_once() == 1
    failed = await get_booking(waiting.booking_id, "", svc.deps)
    assert (failed.status, failed.failure_reason) == (BookingStatus.FAILED, "DEPENDENCY_UNAVAILABLE")
    assert nothing_left(svc)
