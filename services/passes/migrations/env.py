from services.chassis.migrations import run_env
from services.passes.db import metadata

run_env(metadata)
