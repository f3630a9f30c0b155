from services.chassis.migrations import run_env
from services.payments.db import metadata

run_env(metadata)
