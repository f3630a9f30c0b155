"""The activity, session and extra RPCs of CatalogService (a part of CatalogServicer): proto ->
command -> handler -> proto, every bad field collected at once."""

from __future__ import annotations

from novatrek.catalog.v1 import catalog_pb2 as pb

from services.catalog import commands, session_handlers
from services.catalog.domain import CATEGORY_MAX, MAX_CAPACITY, NAME_MAX, session_window_refused
from services.catalog.fields import price_of, seats_of
from services.catalog.protomap import activity_to_pb, extra_to_pb, session_to_pb
from services.chassis.errors import Violations
from services.chassis.pagination import PageTokens
from services.chassis.protoconv import page_size, parse_uuid, time_from_proto, utcnow
from services.chassis.text import text


def _filters(**values: object) -> dict[str, str]:
    """A listing's filters as its page tokens are bound to them (unset ones left out)."""
    return {k: str(v) for k, v in values.items() if v is not None}


class SessionRpcs:
    uow_factory: session_handlers.UowFactory
    tokens: PageTokens

    async def CreateActivity(self, request, context):
        v, a = Violations(), request.activity
        cmd = commands.CreateActivity(
            parse_uuid(a.company_id, "activity.company_id", v),
            text(a.name, "activity.name", v, NAME_MAX),
            text(a.category, "activity.category", v, CATEGORY_MAX, required=False),
        )
        v.raise_if_any()
        activity = await session_handlers.create_activity(cmd, self.uow_factory)
        return pb.CreateActivityResponse(activity=activity_to_pb(activity))

    async def ListActivities(self, request, context):
        v = Violations()
        company_id = parse_uuid(request.company_id, "company_id", v, required=False)
        limit = page_size(request.page_size, v)
        filters = _filters(company_id=company_id)
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        found, following = await session_handlers.list_activities(company_id, position, limit, self.uow_factory)
        token = self.tokens.encode(following, filters) if following else ""
        return pb.ListActivitiesResponse(activities=[activity_to_pb(a) for a in found], next_page_token=token)

    async def CreateSession(self, request, context):
        v, s = Violations(), request.session
        activity_id = parse_uuid(s.activity_id, "session.activity_id", v)
        start = time_from_proto(s, "start_time", "session.start_time", v)
        end = time_from_proto(s, "end_time", "session.end_time", v)
        if not (v.refused("session.start_time") or v.refused("session.end_time")):
            for field, why in session_window_refused(start, end, utcnow()).items():
                v.add(f"session.{field}", why)
        v.check(1 <= s.capacity <= MAX_CAPACITY, "session.capacity", f"must be between 1 and {MAX_CAPACITY}")
        price = price_of(s, "price", v, "session.")
        v.raise_if_any()
        assert price is not None  # else raise_if_any refused the request
        cmd = commands.CreateSession(activity_id, start, end, s.capacity, *price)
        return pb.CreateSessionResponse(
            session=session_to_pb(await session_handlers.create_session(cmd, self.uow_factory))
        )

    async def GetSession(self, request, context):
        v = Violations()
        session_id = parse_uuid(request.session_id, "session_id", v)
        v.raise_if_any()
        return pb.GetSessionResponse(
            session=session_to_pb(await session_handlers.get_session(session_id, self.uow_factory))
        )

    async def ListSessions(self, request, context):
        v = Violations()
        q = commands.ListSessions(
            parse_uuid(request.company_id, "company_id", v, required=False),
            parse_uuid(request.activity_id, "activity_id", v, required=False),
            time_from_proto(request, "start_after", "start_after", v, required=False),
            time_from_proto(request, "start_before", "start_before", v, required=False),
        )
        if q.start_after is not None and q.start_before is not None:
            v.check(q.start_after < q.start_before, "start_before", "must be after start_after")
        limit = page_size(request.page_size, v)
        filters = _filters(**vars(q))
        position = self.tokens.decode(request.page_token, filters, v)
        v.raise_if_any()
        found, following = await session_handlers.list_sessions(q, position, limit, self.uow_factory)
        token = self.tokens.encode(following, filters) if following else ""
        return pb.ListSessionsResponse(sessions=[session_to_pb(s) for s in found], next_page_token=token)

    async def CreateExtra(self, request, context):
        v, e = Violations(), request.extra
        activity_id = parse_uuid(e.activity_id, "extra.activity_id", v)
        name = text(e.name, "extra.name", v, NAME_MAX)
        price = price_of(e, "unit_price", v, "extra.")
        v.raise_if_any()
        assert price is not None  # else raise_if_any refused the request
        extra = await session_handlers.create_extra(commands.CreateExtra(activity_id, name, *price), self.uow_factory)
        return pb.CreateExtraResponse(extra=extra_to_pb(extra))

    async def ListExtras(self, request, context):
        v = Violations()
        activity_id = parse_uuid(request.activity_id, "activity_id", v)
        v.raise_if_any()
        found = await session_handlers.list_extras(activity_id, self.uow_factory)
        return pb.ListExtrasResponse(extras=[extra_to_pb(e) for e in found])

    async def HoldSessionSeats(self, request, context):
        v = Violations()
        cmd = commands.HoldSessionSeats(
            parse_uuid(request.session_id, "session_id", v),
            parse_uuid(request.booking_id, "booking_id", v),
            seats_of(request.seats, v),
        )
        v.check(request.seats <= MAX_CAPACITY, "seats", f"must be at most {MAX_CAPACITY}")
        v.raise_if_any()
        session = await session_handlers.hold_session_seats(cmd, self.uow_factory)
        return pb.HoldSessionSeatsResponse(session=session_to_pb(session), seats_held_for_booking=cmd.seats)

    async def ReleaseSessionSeats(self, request, context):
        v = Violations()
        session_id = parse_uuid(request.session_id, "session_id", v)
        booking_id = parse_uuid(request.booking_id, "booking_id", v)
        v.raise_if_any()
        session, released = await session_handlers.release_session_seats(session_id, booking_id, self.uow_factory)
        return pb.ReleaseSessionSeatsResponse(seats_released=released, session=session_to_pb(session))
