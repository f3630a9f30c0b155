"""Token buckets per client, with an injected clock."""

import pytest

from services.gateway.ratelimit import RateLimiter, TokenBucket, client_key


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_grants_the_burst_then_one_token_per_interval():
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)  # 2 tokens/s: the next one in half a second
    assert bucket.take(0.25) == pytest.approx(0.25)
    assert bucket.take(0.5) == 0.0
    assert bucket.take(100.0) == 0.0 and bucket.tokens == pytest.approx(2.0)  # refills up to the burst, no further


def test_limiter_keeps_one_bucket_per_client():
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0.0
    clock.now += 1.0
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0


def test_limiter_memory_is_bounded_by_evicting_the_stalest_client():
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock(), max_clients=2)
    for client in ("a", "b"):
        limiter.take(client)
    limiter.take("a")  # a is now the most recent
    limiter.take("c")
    assert list(limiter.buckets) == ["a", "c"]


def test_client_key_hashes_the_credential_and_falls_back_to_the_ip():
    key = client_key("Bearer sk_live_secret", "10.0.0.1")
    assert key.startswith("key:") and "secret" not in key and len(key) == 20
    assert key == client_key("Bearer sk_live_secret", "10.9.9.9")  # the key, not the address, names the partner
    assert key != client_key("Bearer other", "10.0.0.1")
    assert client_key(None, "10.0.0.1") == client_key("", "10.0.0.1") == "ip:10.0.0.1"
