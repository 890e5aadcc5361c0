"""The console in a real browser against a real server: sign in, the queue, a red line and its reasons,
recording an outcome (a bad value first), and the refusals; a screenshot of every page."""

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.browser import chromium, missing, screenshot
from tests.support.server import (
    KEYS,
    Registry,
    Server,
    load_world_list,
    start_server,
    stop_server,
    world_lines,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose store holds the world's sanctions list and its last few hundred lines, scored with
    reasons."""
    if why := missing():
        pytest.fail(why)  # the browser is part of the suite: a missing one is a failure, not a skip
    tmp = tmp_path_factory.mktemp("browser")
    store_url = f"sqlite:///{tmp / 'store.db'}"
    load_world_list(registry, store_url)  # listed parties go red by the list rule, and show their matches
    server = start_server(registry, store_url, tmp / "server.log", ROUNDABOUT_MONITOR_INTERVAL_SECONDS="2")
    lines = sorted(world_lines(registry), key=lambda line: line["date"])[-400:]
    dates = {line["line_id"]: line["date"] for line in lines}
    red = []
    with server.client("admin") as client:
        for i in range(0, len(lines), 50):
            answer = client.post("/v1/score", json={"lines": lines[i : i + 50], "explain": True, "top_k": 5})
            assert answer.status_code == 200, answer.text
            red += [dates[r["line_id"]] for r in answer.json()["results"] if r["channel"] == "red"]
    assert red, "no line of the world's last days went red"
    server.red_day = max(red)  # a day whose queue holds a red line
    try:
        yield server
    finally:
        stop_server(server)


def _sign_in(driver, server: Server, who: str = "analyst") -> None:
    driver.get(f"{server.url}/console/queue")
    assert "/console/signin" in driver.current_url  # no session: sent to sign in first
    driver.find_element(By.ID, "key").send_keys(KEYS[who][0])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait(driver, lambda d: d.current_url.endswith("/console/queue"))


def _wait(driver, condition) -> None:
    """Wait for a page the last click led to (a click returns before the next page has loaded). An element
    found on the page being left goes stale as the next one loads: look again rather than fail."""
    WebDriverWait(
        driver, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    ).until(condition)


def _stored_outcome(server: Server, line_id: str) -> tuple | None:
    engine = sa.create_engine(server.store_url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT outcome, key_id, note FROM feat_outcomes WHERE line_id = :i")
            return conn.execute(query, {"i": line_id}).first()
    finally:
        engine.dispose()


def test_an_officer_signs_in_opens_a_red_line_and_records_what_inspection_found(served: Server) -> None:
    with chromium() as driver:
        _sign_in(driver, served)
        driver.execute_script("document.getElementById('day').value = arguments[0]", served.red_day)
        Select(driver.find_element(By.ID, "channel")).select_by_value("red")
        driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
        _wait(driver, lambda d: "channel=red" in d.current_url)
        rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr td:first-child a")
        assert rows, "no red line in the queue"
        screenshot(driver, "queue")
        line_id = rows[0].text
        rows[0].click()
        _wait(driver, lambda d: "/console/lines/" in d.current_url)
        assert driver.find_element(By.TAG_NAME, "h1").text.startswith(f"Line {line_id}")
        reasons = driver.find_elements(By.CSS_SELECTOR, "table[aria-labelledby=reasons] tbody tr")
        assert reasons and driver.find_element(By.CSS_SELECTOR, "svg.chart")
        screenshot(driver, "line")

        # a bad value: no inspection date; the error is shown next to the field and nothing is stored
        Select(driver.find_element(By.ID, "outcome-field")).select_by_value("violation")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/outcome'] button").click()
        _wait(driver, lambda d: d.find_elements(By.ID, "inspected_on-error"))
        assert "inspected_on" in driver.find_element(By.ID, "inspected_on-error").text
        assert _stored_outcome(served, line_id) is None
        screenshot(driver, "outcome-error")

        date_input = driver.find_element(By.ID, "inspected_on")
        driver.execute_script("arguments[0].value = arguments[1]", date_input, "2024-12-31")
        Select(driver.find_element(By.ID, "outcome-field")).select_by_value("violation")
        driver.find_element(By.ID, "violation_type").send_keys("misdeclared goods")
        driver.find_element(By.ID, "note").send_keys("Chips under a harmless code")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/outcome'] button").click()
        _wait(driver, lambda d: "recorded=1" in d.current_url)
        assert "The outcome is stored" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text
        assert "violation" in driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=outcome]").text
        assert _stored_outcome(served, line_id) == ("violation", "analyst", "Chips under a harmless code")
        with served.client("admin") as client:
            outcome = client.get(f"/v1/decisions/{line_id}").json()["outcome"]
        assert outcome["outcome"] == "violation" and outcome["key_id"] == "analyst"

        for name in ("model", "flows", "monitoring"):
            driver.get(f"{served.url}/console/{name}")
            assert driver.find_element(By.TAG_NAME, "h1").text
            screenshot(driver, name)


def test_no_session_or_a_wrong_csrf_token_is_refused(served: Server) -> None:
    with chromium() as driver:
        _sign_in(driver, served)
        driver.find_element(By.CSS_SELECTOR, "tbody tr td:first-child a").click()
        _wait(driver, lambda d: "/console/lines/" in d.current_url)
        line_url = driver.current_url
        token = driver.find_element(By.CSS_SELECTOR, "form[action$='/outcome'] input[name=csrf]")
        driver.execute_script("arguments[0].value = 'forged'", token)
        driver.execute_script("document.getElementById('inspected_on').value = '2024-12-31'")
        Select(driver.find_element(By.ID, "outcome-field")).select_by_value("clean")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/outcome'] button").click()
        _wait(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Not allowed")
        line_id = unquote(line_url.split("/console/lines/", 1)[1])
        assert _stored_outcome(served, line_id) is None
        driver.delete_all_cookies()
        driver.get(line_url)
        assert "/console/signin" in driver.current_url
        screenshot(driver, "signin")


def test_screenshots_are_left_for_the_docs() -> None:
    from tests.support.browser import SCREENSHOTS

    folder: Path = SCREENSHOTS / "console"
    assert {p.stem for p in folder.glob("*.png")} >= {
        "queue",
        "line",
        "model",
        "flows",
        "monitoring",
        "signin",
    }
