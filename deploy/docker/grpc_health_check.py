#!/opt/venv/bin/python
"""grpc-health-check HOST:PORT [SERVICE]: exit 0 when grpc.health.v1 answers SERVING, else 1.

For docker compose healthchecks and `docker exec` debugging (Kubernetes probes gRPC natively).
Uses only what the image already has (grpcio, grpcio-health-checking).
"""

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    target, service = argv[0], (argv[1] if len(argv) == 2 else "")
    with grpc.insecure_channel(target) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2
            )
        except grpc.RpcError as err:
            print(f"{target}: {err.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    print(f"{target} {service or '(server)'}: {status}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
