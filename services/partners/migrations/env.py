from services.chassis.migrations import run_env
from services.partners.db import metadata

run_env(metadata)
