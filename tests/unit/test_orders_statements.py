"""ListOrders' page query is built once at import: a request only binds its parameters."""

import asyncio
import uuid

from services.orders import db


class RecordingConnection:
    def __init__(self) -> None:
        self.executed: list = []

    async def execute(self, statement, params):
        self.executed.append((statement, params))
        return []


def test_a_guests_pages_run_the_statements_built_at_import():
    conn = RecordingConnection()
    orders, guest = db.OrderRepository(conn), uuid.uuid4()
    after = ["2026-01-02T03:04:05+00:00", str(uuid.uuid4())]
    for position in (None, None, after, after):
        asyncio.run(orders.of_guest(guest, position, 20))
    statements = [statement for statement, _ in conn.executed]
    assert statements == [db.GUEST_PAGE, db.GUEST_PAGE, db.GUEST_PAGE_AFTER, db.GUEST_PAGE_AFTER]
    assert conn.executed[2][1]["page_guest"] == guest and conn.executed[2][1]["page_limit"] == 21
