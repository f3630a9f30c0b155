"""A lost database connection is UNAVAILABLE (retry later) for a caller; other errors stay INTERNAL."""

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from services.chassis.db import database_unavailable


def wrapped(driver_error: Exception, invalidated: bool = False) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises it: the driver's error as `orig` and as the cause."""
    try:
        raise sa_exc.DBAPIError("SELECT 1", {}, driver_error, connection_invalidated=invalidated) from driver_error
    except sa_exc.DBAPIError as err:
        return err


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        FileNotFoundError(2, "no socket"),
        TimeoutError(),
        wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")),
        wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")),
        wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")),
        wrapped(RuntimeError("anything"), invalidated=True),
    ],
)
def test_connection_losses_are_unavailable(error):
    mapped = database_unavailable(error)
    assert mapped is not None and mapped.reason == "DATABASE_UNAVAILABLE"


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bug"),
        wrapped(asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout")),
        wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key")),
    ],
)
def test_other_errors_are_not(error):
    assert database_unavailable(error) is None
