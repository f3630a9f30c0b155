from services.chassis.migrations import run_env
from services.inventory.db import metadata

run_env(metadata)
