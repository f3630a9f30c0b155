from services.chassis.migrations import run_env
from services.notifications.db import metadata

run_env(metadata)
