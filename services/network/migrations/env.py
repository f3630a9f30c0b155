from services.chassis.migrations import run_env
from services.network.db import metadata

run_env(metadata)
