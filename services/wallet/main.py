"""wallet: wire adapters into the servicer (the only place that does)."""

from __future__ import annotations

from novatrek.wallet.v1 import wallet_pb2, wallet_pb2_grpc

from services.chassis.server import ServiceRuntime
from services.chassis.wiring import Wiring
from services.wallet.config import WalletSettings
from services.wallet.db import metadata
from services.wallet.handlers import Deps
from services.wallet.repositories import WalletUnitOfWork
from services.wallet.servicer import WalletServicer

NAME = "wallet"


def build(settings: WalletSettings | None = None) -> ServiceRuntime:
    settings = settings or WalletSettings()
    wiring = Wiring(NAME, settings, WalletUnitOfWork, metadata, publishes_events=True)
    servicer = WalletServicer(Deps(uow=wiring.uow), wiring.tokens)
    return wiring.runtime(
        wallet_pb2.DESCRIPTOR.services_by_name["WalletService"],
        lambda server: wallet_pb2_grpc.add_WalletServiceServicer_to_server(servicer, server),
    )
