"""Limits per key: a key over its rate gets 429 with `Retry-After` while the others go on, an expired key
gets 401 saying so, the store's keys are picked up and dropped without a restart, and every call of the
`admin` scope leaves an audit record (or does not happen).

The service runs in this process on an empty registry (no model: the routes used here need none) and
screens against a one-entry list, so a start takes a few seconds.
"""

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from roundabout.parties.entries import ListEntry, ParsedList
from roundabout.serving.app import create_app
from roundabout.serving.keys import ApiKey, KeyRing, hash_key
from roundabout.serving.live_keys import LiveKeys
from roundabout.serving.rate_limit import RateLimiter, limit_of, retry_after
from roundabout.settings import Settings
from roundabout.store import ServiceStore
from tests.support.inprocess import InProcessApp, running

#: name -> (key, scopes, limits and expiry)
KEYS = {
    "limited": (
        "k-limited-0123456789abcdefghijklmnopqrstuvwx",
        ["score"],
        {"rate_per_second": 0.2, "burst": 2},
    ),
    "free": ("k-free-0123456789abcdefghijklmnopqrstuvwxyz01", ["score"], {}),
    "admin": ("k-admin-0123456789abcdefghijklmnopqrstuvwxyz0", ["score", "admin"], {}),
    "expired": ("k-expired-0123456789abcdefghijklmnopqrstuvwx", ["score"], {"expires": "2026-01-01"}),
    "late": ("k-late-0123456789abcdefghijklmnopqrstuvwxyz01", ["score"], {}),  # only ever in the store
}
NAMES = {"names": [{"name": "Sever Komplekt", "country": "RU"}]}
ENTRY = ListEntry("A1", "OOO Sever Komplekt", (), programmes=("RUSSIA-EO14024",), countries=("RU",))


def _api_key(who: str) -> ApiKey:
    key, scopes, extra = KEYS[who]
    return ApiKey(id=who, sha256=hash_key(key), scopes=scopes, **extra)


def _settings(tmp: Path, **changes) -> Settings:
    values = {
        "home": tmp / "home",
        "store_url": f"sqlite:///{tmp / 'store.db'}",
        "api_keys": [_api_key(who) for who in ("limited", "free", "admin", "expired")],
        "reload_interval_seconds": 3600,
        "keys_reload_interval_seconds": 3600,  # the tests check by hand
        "monitor_interval_seconds": 0,
        **changes,
    }
    return Settings(**values)


def _open_store(url: str) -> ServiceStore:
    store = ServiceStore.open(url)
    store.migrate()
    return store


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    settings = _settings(tmp_path_factory.mktemp("key-limits"))
    store = _open_store(settings.service_store_url)
    store.sanction_lists.save("ofac", "ofac", ParsedList([ENTRY]), "test")
    store.dispose()
    with running(create_app(settings), {who: key for who, (key, _, _) in KEYS.items()}) as started:
        # the first screening loads the name tables (seconds): not while a test counts tokens
        assert started.post("/v1/screen", "free", json=NAMES).status_code == 200
        yield started


def _store_of(api: InProcessApp) -> ServiceStore:
    return api.app.state.service.store


def test_a_key_over_its_limit_gets_429_and_other_keys_do_not(api: InProcessApp) -> None:
    assert [api.post("/v1/screen", "limited", json=NAMES).status_code for _ in range(2)] == [200, 200]
    refused = api.post("/v1/screen", "limited", json=NAMES)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 5  # 0.2 a second: a token in at most 5 s
    assert "'limited'" in refused.json()["detail"] and "0.2 requests a second" in refused.json()["detail"]
    assert [api.post("/v1/screen", "free", json=NAMES).status_code for _ in range(5)] == [200] * 5
    assert api.post("/v1/screen", "admin", json=NAMES).status_code == 200


def test_an_expired_key_gets_401_saying_when_it_expired(api: InProcessApp) -> None:
    answer = api.post("/v1/screen", "expired", json=NAMES)
    assert answer.status_code == 401
    assert answer.json()["detail"] == "the API key 'expired' expired on 2026-01-01 00:00 UTC"
    assert api.post("/v1/screen", "free", json=NAMES).status_code == 200


def test_a_stored_key_is_admitted_without_restart_and_refused_once_revoked(api: InProcessApp) -> None:
    state = api.app.state.service
    live = LiveKeys(state.store, state.keys)  # the app's follower reloads this same ring on its schedule
    assert api.post("/v1/screen", "late", json=NAMES).status_code == 401
    writer = ServiceStore.open(state.settings.service_store_url)  # another process's `roundabout keys new`
    try:
        writer.keys.add(_api_key("late"), "cli")
        assert api.post("/v1/screen", "late", json=NAMES).status_code == 401  # until the next check
        assert live.check() == "swapped" and live.check() == "unchanged"
        assert api.post("/v1/screen", "late", json=NAMES).status_code == 200
        writer.keys.revoke("late", "cli")
        assert live.check() == "swapped"
        assert api.post("/v1/screen", "late", json=NAMES).status_code == 401
    finally:
        writer.dispose()


def test_an_admin_call_leaves_an_audit_record(api: InProcessApp) -> None:
    with _store_of(api).backend.connect() as conn:
        before = _store_of(api).audit.head(conn)[0]
    assert api.post("/v1/admin/reload", "admin").status_code == 200  # no model: "failed", answered 200
    assert api.post("/v1/admin/reload", "free").status_code == 403  # refused: nothing to record
    with _store_of(api).backend.connect() as conn:
        records = list(_store_of(api).audit.records(conn, after=before))
    assert [(r.kind, r.actor, r.subject) for r in records] == [("admin_call", "admin", "/v1/admin/reload")]
    assert json.loads(records[0].content) == {"method": "POST", "path": "/v1/admin/reload"}


def test_an_admin_call_that_cannot_be_recorded_gets_503(
    api: InProcessApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(entries: object) -> list[int]:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(_store_of(api).audit, "record", down)
    answer = api.post("/v1/admin/reload", "admin")
    assert answer.status_code == 503 and "audit trail" in answer.json()["detail"]
    assert answer.headers["Retry-After"] == "5"


def test_the_service_follows_the_store_keys_on_its_own(tmp_path: Path) -> None:
    """A key stored before the start is admitted from the first call; one stored later within the
    reload interval."""
    settings = _settings(tmp_path, api_keys=[], keys_reload_interval_seconds=0.2)
    store = _open_store(settings.service_store_url)
    try:
        store.keys.add(_api_key("free"), "cli")
        with running(create_app(settings), {who: key for who, (key, _, _) in KEYS.items()}) as started:
            assert started.post("/v1/screen", "free", json=NAMES).status_code == 503  # admitted; no list
            store.keys.add(_api_key("late"), "cli")
            deadline = time.monotonic() + 10
            while started.post("/v1/screen", "late", json=NAMES).status_code == 401:
                assert time.monotonic() < deadline, "the service did not pick up the stored key"
                time.sleep(0.05)
    finally:
        store.dispose()


def test_a_configured_key_wins_over_a_stored_one_with_its_id(caplog: pytest.LogCaptureFixture) -> None:
    ring = KeyRing([_api_key("free")])
    shadow = ApiKey(id="free", sha256=hash_key("another-key-0123456789abcdefghijk"), scopes=["admin"])
    with caplog.at_level(logging.WARNING, "roundabout.serving"):
        ring.reload([shadow, _api_key("late")])
        ring.reload([shadow, _api_key("late")])
    assert (
        ring.find(KEYS["free"][0]) == _api_key("free")
        and ring.find("another-key-0123456789abcdefghijk") is None
    )
    assert ring.find(KEYS["late"][0]) == _api_key("late") and ring.ids == ["free", "late"]
    ring = KeyRing([_api_key("expired")])  # refused wherever keys are found (the console's sign-in too)
    assert ring.find(KEYS["expired"][0]) is None and ring.match(KEYS["expired"][0]) == _api_key("expired")
    assert not ring.in_force("expired") and not ring.in_force("nobody")
    assert [r.getMessage() for r in caplog.records].count(
        "API key 'free' is both in ROUNDABOUT_API_KEYS and in the store: the setting's is used"
    ) == 1


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.take("a", 2.0, 3) for _ in range(3)] == [None, None, None]
    assert limiter.take("a", 2.0, 3) == pytest.approx(0.5)
    assert limiter.take("b", 2.0, 3) is None  # a bucket per key
    now[0] += 0.5
    assert limiter.take("a", 2.0, 3) is None and limiter.take("a", 2.0, 3) == pytest.approx(0.5)
    now[0] += 3600  # a long pause fills the bucket to its burst, no further
    assert [limiter.take("a", 2.0, 3) is None for _ in range(4)] == [True, True, True, False]
    assert retry_after(0.01) == 1 and retry_after(2.2) == 3


def test_a_key_without_limits_takes_the_settings_defaults(tmp_path: Path) -> None:
    plain, own = _api_key("free"), _api_key("limited")
    assert limit_of(plain, _settings(tmp_path)) is None
    assert limit_of(plain, _settings(tmp_path, key_rate_per_second=2.5)) == (2.5, 3)
    assert limit_of(plain, _settings(tmp_path, key_rate_per_second=2.5, key_burst=10)) == (2.5, 10)
    assert limit_of(own, _settings(tmp_path, key_rate_per_second=50, key_burst=100)) == (0.2, 2)
    soon = datetime.now(UTC) + timedelta(days=1)
    assert ApiKey(id="x", sha256="0" * 64, scopes=["score"], expires=soon.isoformat()).expires == soon


def test_a_store_that_cannot_be_read_keeps_the_keys_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        store.keys.add(_api_key("late"), "cli")
        ring = KeyRing([_api_key("free")])
        live = LiveKeys(store, ring)
        assert live.check() == "swapped" and ring.in_force("late") and ring.in_force("free")

        def down(now: object = None) -> list:
            raise sa.exc.OperationalError("SELECT", {}, Exception("unable to open database file"))

        monkeypatch.setattr(store.keys, "active", down)
        assert live.check() == "failed" and "OperationalError" in (live.last_error or "")
        assert ring.find(KEYS["late"][0]) == _api_key("late")
    finally:
        store.dispose()
