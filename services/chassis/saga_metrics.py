"""The sagas' metrics (chassis/saga.py), beside metrics.py's: kept apart so that the saga module, which
handlers import, imports no SQL. Served on /metrics with the others (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Sagas (chassis/saga.py) by how each run ended: completed, compensated, compensation_pending (a
# compensation failed: recovery finishes it), left_for_recovery (a step past the pivot failed),
# taken_over (recovery claimed it meanwhile); and those recovery claimed (their process died or
# stalled, or they were left to it).
SAGAS = Counter("novatrek_sagas_total", "Saga runs ended, by outcome", ["service", "saga", "outcome"])
SAGA_RECOVERIES = Counter("novatrek_saga_recoveries_total", "Sagas claimed by recovery", ["service", "saga"])
SAGA_SECONDS = Histogram(
    "novatrek_saga_duration_seconds",
    "Saga run latency, to its end or to being left for recovery",
    ["service", "saga"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
