"""The store's API keys: made and revoked with an audit record in the same transaction, listed without
restart, ids never reused."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from roundabout.errors import ConflictError, InvalidInputError
from roundabout.serving.keys import ApiKey, hash_key
from roundabout.store import ServiceStore

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[ServiceStore]:
    opened = ServiceStore.open(store_url)
    opened.migrate()
    yield opened
    opened.dispose()


def _key(key_id: str, **fields) -> ApiKey:
    return ApiKey(id=key_id, sha256=hash_key(f"k-{key_id}-0123456789abcdef"), scopes=["score"], **fields)


def _records(store: ServiceStore) -> list:
    with store.backend.connect() as conn:
        return list(store.audit.records(conn))


def test_a_key_is_stored_with_its_audit_record(store: ServiceStore) -> None:
    key = _key("risk-system", expires="2027-06-01", rate_per_second=2.5)
    stored = store.keys.add(key, "cli", now=NOW)
    assert stored.created_at == NOW and stored.revoked_at is None and stored.burst == 3
    assert store.keys.active(NOW) == [stored] and store.keys.all() == [stored]
    again = ApiKey.model_validate(stored.fields())
    assert again == key and again.expires == datetime(2027, 6, 1, tzinfo=UTC)
    (record,) = _records(store)
    assert (record.kind, record.actor, record.subject) == ("key_created", "cli", "risk-system")
    assert json.loads(record.content) == {
        "scopes": ["score"],
        "expires": "2027-06-01T00:00:00.000000Z",
        "rate_per_second": 2.5,
        "burst": 3,
        "sha256": key.sha256,
    }


def test_a_taken_id_is_refused_and_nothing_is_written(store: ServiceStore) -> None:
    store.keys.add(_key("a"), "cli", now=NOW)
    with pytest.raises(ConflictError, match="'a' is already in the store"):
        store.keys.add(_key("a", rate_per_second=1), "cli")
    with pytest.raises(ConflictError, match="already in the store as 'a'"):
        store.keys.add(ApiKey(id="b", sha256=_key("a").sha256, scopes=["admin"]), "cli")
    assert [k.id for k in store.keys.all()] == ["a"] and len(_records(store)) == 1


def test_a_revoked_key_leaves_the_active_ones_with_its_audit_record(store: ServiceStore) -> None:
    store.keys.add(_key("a"), "cli", now=NOW)
    store.keys.add(_key("b", expires=NOW - timedelta(days=1)), "cli", now=NOW)
    revoked = store.keys.revoke("a", "cli", now=NOW + timedelta(hours=1))
    assert revoked.revoked_at == NOW + timedelta(hours=1)
    # an expired key stays active: the service tells its caller why it is refused
    assert [k.id for k in store.keys.active(NOW + timedelta(hours=2))] == ["b"]
    assert [k.id for k in store.keys.active(NOW)] == ["a", "b"]  # revoked later than that
    assert {k.id: k.revoked_at for k in store.keys.all()} == {"a": revoked.revoked_at, "b": None}
    assert [(r.kind, r.subject) for r in _records(store)] == [
        ("key_created", "a"),
        ("key_created", "b"),
        ("key_revoked", "a"),
    ]
    with pytest.raises(ConflictError, match="already revoked"):
        store.keys.revoke("a", "cli")
    with pytest.raises(ConflictError, match="ids are never reused"):
        store.keys.add(_key("a"), "cli")
    with pytest.raises(InvalidInputError) as unknown:
        store.keys.revoke("nobody", "cli")
    assert unknown.value.field == "--id" and len(_records(store)) == 3
