from services.chassis.migrations import run_env
from services.guests.db import metadata

run_env(metadata)
