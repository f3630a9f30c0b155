"""The request headers the gateway reads and forwards, in ONE table: the gateway's checks (headers.py),
the OpenAPI document (openapi.py) and the table in docs/gateway.md are all made from it.

Limits: gRPC servers and channels here keep grpc-core's defaults (neither services/chassis/server.py nor
clients/channel.py sets `grpc.max_metadata_size`): metadata over 8 KiB is refused at random, over 16 KiB
always, as RESOURCE_EXHAUSTED. Each entry counts its name, its value and 32 bytes (HPACK's rule), and
gRPC's own entries (:path, user-agent, grpc-timeout, …) take about 600 bytes. So the gateway refuses,
before any call, a header over its own limit and forwarded headers over MAX_FORWARDED_BYTES in total:
well below 8 KiB, with room left for the metadata the services add when they call each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MAX_FORWARDED_BYTES = 4096
ENTRY_OVERHEAD = 32  # what gRPC (HPACK) counts per metadata entry besides its name and value
PRINTABLE = "[ -~]*"  # gRPC's rule for text metadata: printable ASCII
CREATE_PARTNER_BOOKING = "novatrek.partners.v1.PartnerService.CreatePartnerBooking"
REGISTER_PARTNER = "novatrek.partners.v1.PartnerService.RegisterPartner"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "gateway.md"
BEGIN, END = (
    "<!-- header-specs:begin (generated: python -m services.gateway.header_specs) -->",
    "<!-- header-specs:end -->",
)


@dataclass(frozen=True)
class HeaderSpec:
    name: str  # as HTTP, the docs and the OpenAPI document spell it; the metadata key is its lower case
    pattern: str  # a value must match it whole; else 400 (X-Request-Id: replaced by a new one)
    max_length: int  # longer is 431, decided by the gateway
    description: str
    says: str = "printable ASCII"  # the pattern in words, for a refusal's field violation
    required_for: frozenset[str] = frozenset()  # full method names (`pkg.Service.Method`) refused without it
    # the operations whose parameters list it: every one, or those named (the ones that honour it)
    in_openapi: str | frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        return self.name.lower()

    def required(self, method: str) -> bool:
        return method in self.required_for

    def listed_on(self, method: str) -> bool:
        return self.in_openapi == "all" or method in self.in_openapi or method in self.required_for


REQUEST_ID = HeaderSpec(
    "X-Request-Id",
    "[A-Za-z0-9._:@/+=-]{1,128}",
    128,
    "Correlates logs across the mesh; a missing, invalid or longer one is replaced by a new one; always echoed.",
    in_openapi="all",
)
SPECS = (
    REQUEST_ID,
    HeaderSpec(
        "Idempotency-Key",
        "[!-~]{1,255}",
        255,
        "Makes a retried write safe: the same key and body get the same answer (a new partner's API key"
        " excepted: it is shown once). Honoured where the OpenAPI document lists it; docs/gateway.md,"
        " Retrying a write, says what the other writes do.",
        says="1-255 visible ASCII characters",
        required_for=frozenset({CREATE_PARTNER_BOOKING}),
        in_openapi=frozenset({REGISTER_PARTNER}),
    ),
    HeaderSpec(
        "Authorization",
        PRINTABLE,
        2048,
        "`Bearer <API key>` on the partner API: the services decide (the OpenAPI document has it as its security"
        " scheme). `Bearer <customer token>` on the client surface (`/api/client/…`): the gateway verifies it and"
        " never forwards it (docs/gateway.md, The client surface).",
    ),
    HeaderSpec(
        "traceparent", PRINTABLE, 128, "W3C trace context: the trace goes on through the gateway's span (sent as ours)."
    ),
    HeaderSpec("tracestate", PRINTABLE, 512, "W3C trace context, vendor entries."),
    HeaderSpec("baggage", PRINTABLE, 2048, "W3C baggage."),
)
BY_KEY = {spec.key: spec for spec in SPECS}
ALWAYS_FORWARDED = ("authorization", "idempotency-key")  # the rest of SPECS only when on FORWARDED_HEADERS


def spec_for(key: str) -> HeaderSpec:
    """The spec of a forwarded header; one on the allow-list that the table does not know gets defaults."""
    return BY_KEY.get(key) or HeaderSpec(key, PRINTABLE, 1024, "Forwarded (`FORWARDED_HEADERS`).")


def openapi_parameter(spec: HeaderSpec, method: str) -> dict:
    return {
        "name": spec.name,
        "in": "header",
        "required": spec.required(method),
        "description": spec.description,
        "schema": {"type": "string", "maxLength": spec.max_length, "pattern": f"^{spec.pattern}$"},
    }


def _required_cell(spec: HeaderSpec) -> str:
    return ", ".join(f"`{'.'.join(m.split('.')[-2:])}`" for m in sorted(spec.required_for)) or "no"


def markdown_table() -> str:
    rows = [
        "| HTTP request header | gRPC metadata | required by | value (whole match) | max bytes | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for spec in SPECS:
        forwarded = "always" if spec.key in (*ALWAYS_FORWARDED, REQUEST_ID.key) else "on `FORWARDED_HEADERS`"
        rows.append(
            f"| `{spec.name}` | `{spec.key}` ({forwarded}) | {_required_cell(spec)} | `{spec.pattern}` "
            f"| {spec.max_length} | {spec.description} |"
        )
    return "\n".join(rows)


def docs_table(text: str) -> str:
    """The generated part of docs/gateway.md."""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def with_docs_table(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{markdown_table()}\n{END}{rest.split(END, 1)[1]}"


if __name__ == "__main__":  # rewrites the table in docs/gateway.md
    DOCS.write_text(with_docs_table(DOCS.read_text()))
