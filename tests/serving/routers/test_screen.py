"""POST /v1/screen, and the lists of a running service: a newly loaded version is picked up without a
restart, and every decision records the versions it was screened against."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roundabout.parties.entries import ListEntry, ParsedList
from roundabout.serving.app import create_app
from roundabout.store import ServiceStore
from tests.serving.routers.conftest import settings_for
from tests.support.bodies import api_line
from tests.support.inprocess import InProcessApp, running
from tests.support.server import KEYS, Registry

FIRST = [
    ListEntry("A1", "ООО «Север Комплект»", ("OOO Sever Komplekt",), programmes=("RUSSIA-EO14024",),
              countries=("RU",)),
]  # fmt: skip
SECOND = [
    *FIRST,
    ListEntry("A2", "Orion Mikrosistemy FZE", (), programmes=("RUSSIA-EO14024",), countries=("AE",)),
]


@pytest.fixture(scope="module")
def lists_api(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    """A service that checks the store's list versions every 0.2 s."""
    tmp = tmp_path_factory.mktemp("screen")
    settings = settings_for(registry, tmp, lists_reload_interval_seconds=0.2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", registry.tracking_uri)
        app = create_app(settings)
        with running(app, {who: key for who, (key, _) in KEYS.items()}) as started:
            started.store_url = settings.service_store_url  # type: ignore[attr-defined]
            yield started


def _load(api: InProcessApp, entries: list[ListEntry]) -> int:
    store = ServiceStore.open(api.store_url)  # type: ignore[attr-defined]
    try:
        store.migrate()
        version, _ = store.sanction_lists.save("ofac", "ofac", ParsedList(entries), "test")
        return version
    finally:
        store.dispose()


def _screen(api: InProcessApp, *names: dict) -> dict:
    answer = api.post("/v1/screen", "scorer", json={"names": list(names)})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _until(check, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the service did not pick up the list"
        time.sleep(0.1)


def test_no_list_yet_is_503_then_a_loaded_version_is_picked_up_without_restart(lists_api) -> None:
    answer = lists_api.post("/v1/screen", "scorer", json={"names": [{"name": "Sever Komplekt"}]})
    assert answer.status_code == 503 and "roundabout lists load" in answer.json()["detail"]
    first = _load(lists_api, FIRST)
    _until(lambda: lists_api.post("/v1/screen", "scorer", json={"names": [{"name": "x"}]}).status_code == 200)
    body = _screen(lists_api, {"name": "Sever-Komplekt LLC", "country": "ru"}, {"name": "Orion Mikrosistemy"})
    assert body["lists"][0]["list"] == "ofac" and body["lists"][0]["version"] == first
    hit, miss = body["results"]
    assert hit["country"] == "RU" and hit["matches"][0]["entry_id"] == "A1"
    assert hit["matches"][0]["matched_name"] in {"OOO Sever Komplekt", "ООО «Север Комплект»"}
    assert hit["matches"][0]["country_agrees"] and hit["matches"][0]["matched_words"]
    assert miss["matches"] == []
    # a new version: the running service screens against it within its check interval
    second = _load(lists_api, SECOND)
    _until(lambda: _screen(lists_api, {"name": "x"})["lists"][0]["version"] == second)
    assert _screen(lists_api, {"name": "Orion Mikrosistemy"})["results"][0]["matches"][0]["entry_id"] == "A2"


def test_decisions_record_the_list_versions(lists_api) -> None:
    version = _load(lists_api, SECOND)
    _until(lambda: _screen(lists_api, {"name": "x"})["lists"][0]["version"] == version)
    line = api_line(line_id="SCR/1", counterparty_name="OOO Sever Komplekt", counterparty_country="RU")
    assert lists_api.post("/v1/score", "scorer", json={"lines": [line]}).status_code == 200
    many = [api_line(line_id=f"SCR/{i}") for i in (2, 3)]
    assert lists_api.post("/v1/score", "scorer", json={"lines": many}).status_code == 200
    for line_id in ("SCR/1", "SCR/2"):
        (decision,) = lists_api.get(f"/v1/decisions/{line_id}", "admin").json()["decisions"]
        assert decision["list_versions"] == {"ofac": version}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"names": []}, "names"),
        ({"names": [{"name": ""}]}, "name"),
        ({"names": [{"name": "x" * 513}]}, "name"),
        ({"names": [{"name": "Acme", "country": "RUS"}]}, "country"),
        ({"names": [{"name": 7}]}, "name"),
        ({"names": [{"name": "Acme", "extra": 1}]}, "extra"),
        ({"names": [{"name": "Acme"}], "min_score": 2}, "min_score"),
        ({"names": [{"name": "Acme"}], "limit": 0}, "limit"),
    ],
)
def test_bad_input_is_422_naming_the_field(lists_api, body: dict, field: str) -> None:
    answer = lists_api.post("/v1/screen", "scorer", json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text


def test_too_many_names_is_413_and_keys_are_checked(lists_api) -> None:
    names = [{"name": f"Firm {i}"} for i in range(51)]
    assert lists_api.post("/v1/screen", "scorer", json={"names": names}).status_code == 413
    assert lists_api.post("/v1/screen", json={"names": [{"name": "Acme"}]}).status_code == 401
    assert lists_api.post("/v1/screen", "inspector", json={"names": [{"name": "Acme"}]}).status_code == 403


def test_the_endpoint_is_documented_with_an_example(lists_api) -> None:
    spec = lists_api.get("/openapi.json").json()
    operation = spec["paths"]["/v1/screen"]["post"]
    assert {"422", "503", "413"} <= set(operation["responses"])
    schema = spec["components"]["schemas"]["ScreenRequest"]
    assert schema["examples"][0]["names"][0]["name"]


def test_docs_page_has_curl_examples() -> None:
    page = (Path(__file__).resolve().parents[3] / "docs" / "screening.md").read_text()
    assert "curl" in page and "/v1/screen" in page and "roundabout lists load" in page


def test_a_listed_counterparty_goes_red_and_its_reason_names_the_entry(lists_api, registry) -> None:
    """The session's model was trained with the simulated world's list: loaded here too, a line shipping to
    one of its entries goes red with the match as its first reason."""
    from roundabout.parties.formats import read_list
    from tests.support.server import WORLD_LIST

    parsed = read_list("opensanctions", registry.data_dir / WORLD_LIST)
    store = ServiceStore.open(lists_api.store_url)
    try:
        version, _ = store.sanction_lists.save("simulated", "opensanctions", parsed, "world")
    finally:
        store.dispose()
    _until(lambda: any(v["list"] == "simulated" for v in _screen(lists_api, {"name": "x"})["lists"]))
    entry = next(e for e in parsed.entries if e.countries == ("RU",) and e.aliases)
    line = api_line(line_id="SCR/red", counterparty_name=entry.aliases[0], counterparty_country="RU")
    (result,) = lists_api.post("/v1/score", "scorer", json={"lines": [line]}).json()["results"]
    assert result["channel"] == "red"
    first = result["reasons"][0]
    assert first["feature"] == "counterparty_list_score"
    assert f"'{entry.aliases[0]}' resembles" in first["text"] and "simulated world's list" in first["text"]
    (decision,) = lists_api.get("/v1/decisions/SCR/red", "admin").json()["decisions"]
    assert decision["list_versions"]["simulated"] == version
