"""A saga whose insert committed but whose answer was lost (SagaNotStarted with the row written): the
checkout keeps its cart, so the retry answers what the orphan saga's recovery decides, never a second
saga under the same checkout id. The real checkout database; only the saga insert's answer is lost."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from novatrek.checkout.v1 import checkout_pb2 as pb

from services.chassis.errors import Unavailable
from services.chassis.protoconv import utcnow
from services.chassis.saga import SagaRunner
from services.chassis.saga_store import PgSagaStore
from services.checkout import db
from services.checkout.checkout_saga import SagaPorts, checkout_saga
from services.checkout.domain import Cart, CartLine
from services.checkout.handlers import Deps, checkout_cart
from services.checkout.outcomes import Outcomes
from tests.integration.ordering_fixtures import checkout, checkout_stub, ordering  # noqa: F401


class AnswerLost(PgSagaStore):
    async def insert(self, saga_id: uuid.UUID, values: dict) -> None:
        await super().insert(saga_id, values)
        raise ConnectionError("the connection dropped after the commit")


async def test_a_recorded_saga_whose_answer_was_lost_keeps_its_checkout(checkout, checkout_stub):
    engine = checkout.runtime.engine

    def uow(read_only: bool = False, autocommit: bool = False):
        source = "//novatrek.io/checkout"
        return db.CheckoutUnitOfWork(engine, db.outbox, source=source, read_only=read_only, autocommit=autocommit)

    outcomes = Outcomes()
    saga = checkout_saga(SagaPorts(uow, None, None, None, outcomes.settle, utcnow))  # no step runs
    runner = SagaRunner(AnswerLost(engine, db.sagas), {saga.name: saga})
    cart = Cart(uuid.uuid4(), uuid.uuid4(), (CartLine("SKU-1", "Trail pack", Decimal("19.90"), "EUR", 1),), "tok")
    with pytest.raises(Unavailable):
        await checkout_cart(cart, Deps(uow, runner, outcomes))
    kept = await checkout_stub.GetCheckout(pb.GetCheckoutRequest(checkout_id=str(cart.checkout_id)))
    assert kept.checkout.state == pb.CHECKOUT_STATE_RUNNING  # recovery of the recorded saga ends it
