from services.chassis.migrations import run_env
from services.reservations.db import metadata

run_env(metadata)
