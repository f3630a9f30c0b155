"""One long-lived gRPC channel per upstream service, the calls made on it, and readiness."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from clients.channel import open_channel
from services.gateway.bindings import Binding


class Upstreams:
    def __init__(self, addresses: dict[str, str], retryable: dict[str, list[str]]) -> None:
        """`addresses`: full service name -> host:port, for the services exposed on some listener."""
        self.addresses = addresses
        self.channels = {name: open_channel(addr, {name: retryable.get(name, [])}) for name, addr in addresses.items()}
        self._calls: dict[str, grpc.aio.UnaryUnaryMultiCallable] = {}

    def call(self, binding: Binding) -> grpc.aio.UnaryUnaryMultiCallable:
        found = self._calls.get(binding.rpc_path)
        if found is None:
            found = self._calls[binding.rpc_path] = self.channels[binding.service].unary_unary(
                binding.rpc_path,
                request_serializer=binding.request_cls.SerializeToString,
                response_deserializer=binding.response_cls.FromString,
            )
        return found

    async def _health(self, service: str, timeout_s: float) -> str:
        stub = health_pb2_grpc.HealthStub(self.channels[service])
        try:
            answer = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.aio.AioRpcError as err:
            return err.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)

    async def health(self, services: list[str], timeout_s: float) -> dict[str, str]:
        """Each service's grpc.health.v1 status (or the RPC error code when it cannot answer)."""
        states = await asyncio.gather(*(self._health(s, timeout_s) for s in services))
        return dict(zip(services, states, strict=False))

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self.channels.values()))
