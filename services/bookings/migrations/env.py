from services.bookings.db import metadata
from services.chassis.migrations import run_env

run_env(metadata)
