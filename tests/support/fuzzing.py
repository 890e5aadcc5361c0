"""The OpenAPI fuzzer the reliability tests and `bench/fuzz_api.py` drive a real server with, and the
checks that no answer leaks a secret."""

import contextlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.server import KEYS


# ---- fuzzing from the OpenAPI ----------------------------------------------------------------------------
@dataclass
class OperationReport:
    """What the fuzzer sent to one operation and what came back."""

    label: str
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(
    url: str, examples: int, headers: dict[str, str] | None = None, seed: int = 0
) -> list[OperationReport]:
    """Schemathesis over every operation of the server's own `/openapi.json`.

    Half the examples are schema-valid (positive), half schema-invalid (negative). Each answer is checked:
    no 5xx, a documented status code, a documented content type, a body and headers that match the
    documented schema. Failures are recorded, not raised, so the counts are complete.
    """
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi import checks as oc

    checks = [
        not_a_server_error,
        oc.status_code_conformance,
        oc.content_type_conformance,
        oc.response_schema_conformance,
        oc.response_headers_conformance,
    ]
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    reports = []
    with httpx.Client(timeout=60) as _probe:  # fail fast if the server is not up
        _probe.get(f"{url}/healthz").raise_for_status()
    for result in schema.get_all_operations():
        operation = result.ok()
        report = OperationReport(operation.label)
        seen: list[Any] = []
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            count = examples // 2 + (examples % 2 if mode is schemathesis.GenerationMode.POSITIVE else 0)
            random.seed(seed)
            strategy = operation.as_strategy(generation_mode=mode)
            _generated(strategy, count, _sender(url, headers or {}, checks, report), seen)
        # An operation whose input space ran out (no parameters) is topped up with the cases seen, each
        # under a random key variant: none, garbage, or one of the real keys.
        rng = random.Random(seed)
        variants = [{}, {"X-API-Key": "not-a-key"}, *({"X-API-Key": k} for k, _s in KEYS.values())]
        send = _sender(url, headers or {}, checks, report)
        while seen and report.requests < examples:
            send(rng.choice(seen), rng.choice(variants))
        reports.append(report)
    return reports


def _sender(
    url: str, headers: dict[str, str], checks: list[Any], report: OperationReport
) -> Callable[[Any, dict[str, str] | None], None]:
    """A function that sends one case and records the answer and the checks' verdict in `report`."""

    def send(case: Any, override: dict[str, str] | None = None) -> None:
        sent = {**headers, **(override or {})}
        response = case.call(base_url=url, headers=sent, timeout=60)
        report.requests += 1
        report.statuses[response.status_code] += 1
        report.server_errors += response.status_code >= 500
        try:
            case.validate_response(response, checks=checks, headers=sent)
        except (Exception, BaseExceptionGroup) as exc:  # a check failed: keep the first few
            if len(report.failures) < 5:
                report.failures.append(f"{case.method} {case.formatted_path}: {str(exc)[:600]}")

    return send


def _generated(strategy: Any, count: int, send: Callable[[Any], None], seen: list[Any]) -> None:
    """Send up to `count` cases Hypothesis draws from `strategy` (fewer if the input space runs out)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis.errors import Unsatisfiable

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if len(seen) < 64:
            seen.append(case)
        send(case)

    with contextlib.suppress(Unsatisfiable):  # no schema-invalid input exists for this operation
        run()
