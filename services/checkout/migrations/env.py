from services.chassis.migrations import run_env
from services.checkout.db import metadata

run_env(metadata)
