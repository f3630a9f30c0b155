from services.chassis.migrations import run_env
from services.wallet.db import metadata

run_env(metadata)
