"""Settings: explicit overrides by field name, environment by prefix, shared broker URL."""

from services.reservations.config import ReservationSettings


def test_overrides_by_field_name_win(monkeypatch):
    monkeypatch.setenv("NOVATREK_NATS_URL", "nats://from-env:4222")
    assert ReservationSettings(nats_url="nats://explicit:4222").nats_url == "nats://explicit:4222"


def test_environment_is_read_with_the_service_prefix_and_shared_broker(monkeypatch):
    monkeypatch.setenv("NOVATREK_NATS_URL", "nats://shared:4222")
    monkeypatch.setenv("NOVATREK_RESERVATIONS_PORT", "6000")
    monkeypatch.setenv("NOVATREK_RESERVATIONS_DATABASE_URL", "postgresql+asyncpg://u:hunter2-pw@db/r")
    settings = ReservationSettings()
    assert (settings.nats_url, settings.port) == ("nats://shared:4222", 6000)
    assert "hunter2-pw" not in repr(settings)  # secrets never end up in logs


def test_seed_pool_defaults():
    settings = ReservationSettings()
    assert (settings.db_pool_min, settings.db_pool_max, settings.db_pool_idle_timeout_s) == (10, 40, 600)
