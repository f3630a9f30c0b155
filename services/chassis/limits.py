"""Platform-wide limits that more than one context enforces, kept once so they cannot drift (as the
currencies of money.py). Here and not in the owning context: a context may not import another's
services.* package (DESIGN §2), and clients.* imports grpc, which domains must not (docs/architecture.md,
"How a context is laid out"). Pure Python."""

from __future__ import annotations

# People in one reservation: reservations refuses more; partner-integrations refuses a booking
# request above it before it starts the pipeline, with the same field violation.
MAX_PARTY_SIZE = 50
