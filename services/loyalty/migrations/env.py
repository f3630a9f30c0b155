from services.chassis.migrations import run_env
from services.loyalty.db import metadata

run_env(metadata)
