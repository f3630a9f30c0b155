from services.chassis.migrations import run_env
from services.orders.db import metadata

run_env(metadata)
