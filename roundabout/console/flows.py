"""Trade flows of CHPL goods from the lines in the store: by HS6 and month, imports whose goods originate in
a Global Export Control Coalition country beside exports to Russia and Belarus, with the jumps flagged.

This is the picture Eurasianet published in March 2023 from Trade Data Monitor figures: Kazakhstan's
exports of semiconductors to Russia went from about $12,000 in 2021 to $3.7 million in 2022. A year whose
exports to Russia and Belarus are at least `JUMP` times the year before (and at least `MIN_VALUE`) is
flagged, and so is a month at least `JUMP` times the same flow's monthly mean of the year before.

One aggregate statement over the store; its result is kept for `CACHE_SECONDS` (the figures move by the
day, and on a store of a million lines the statement takes about a second).
"""

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from roundabout.console.charts import paired_columns
from roundabout.console.pages import Context, SignedIn, page
from roundabout.reference.chpl import chpl_table
from roundabout.reference.countries import COALITION, RUSSIA_BELARUS
from roundabout.store import ServiceStore

router = APIRouter(prefix="/console", include_in_schema=False)
JUMP = 10.0
MIN_VALUE = 100_000.0
CACHE_SECONDS = 300.0
IMPORTS, EXPORTS = "imports from the coalition", "exports to Russia and Belarus"


@dataclass
class Flows:
    """Monthly values per HS6 and flow, and what jumped."""

    months: list[str]
    values: dict[str, dict[str, dict[str, float]]]  # hs6 -> flow -> month -> USD
    computed_at: float = 0.0
    years: list[str] = field(default_factory=list)

    def yearly(self, hs6: str, flow: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for month, value in self.values.get(hs6, {}).get(flow, {}).items():
            out[month[:4]] += value
        return dict(out)


def read_flows(store: ServiceStore) -> Flows:
    """The monthly sums of both flows for every CHPL HS6 the store holds lines of."""
    lines = store.tables.lines.c
    hs6 = sa.func.substr(lines.hs_code, 1, 6)
    month = sa.func.substr(sa.cast(lines.date, sa.String), 1, 7)
    imports = (lines.direction == "import") & lines.origin_country.in_(sorted(COALITION))
    exports = (lines.direction == "export") & lines.destination_country.in_(sorted(RUSSIA_BELARUS))
    flow = sa.case((imports, IMPORTS), else_=EXPORTS)
    chpl = sorted(chpl_table()["hs6"])
    query = (
        sa.select(hs6.label("hs6"), month.label("month"), flow.label("flow"), sa.func.sum(lines.value_usd))
        .where(hs6.in_(chpl), imports | exports)
        .group_by(hs6, month, flow)
    )
    values: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    months: set[str] = set()
    with store.backend.connect() as conn:
        for code, m, kind, total in conn.execute(query):
            values[code][kind][m] = float(total or 0.0)
            months.add(m)
    ordered = sorted(months)
    return Flows(
        ordered, {k: dict(v) for k, v in values.items()}, time.time(), sorted({m[:4] for m in ordered})
    )


def jumps(flows: Flows) -> list[dict[str, Any]]:
    """Per HS6 and year, the exports to Russia and Belarus that jumped against the year before."""
    out = []
    for code in flows.values:
        yearly = flows.yearly(code, EXPORTS)
        for year in flows.years[1:]:
            before, now = yearly.get(str(int(year) - 1), 0.0), yearly.get(year, 0.0)
            if now >= MIN_VALUE and now >= JUMP * max(before, 1.0):
                out.append(
                    {"hs6": code, "year": year, "before": before, "now": now, "times": now / max(before, 1.0)}
                )
    return sorted(out, key=lambda j: -j["now"])


def month_marks(flows: Flows, hs6: str, flow: str) -> list[bool]:
    """Months at least `JUMP` times the flow's monthly mean over the year before (and over `MIN_VALUE`/12)."""
    series = flows.values.get(hs6, {}).get(flow, {})
    marks = []
    for i, month in enumerate(flows.months):
        year_before = flows.months[max(0, i - 12) : i]
        mean = sum(series.get(m, 0.0) for m in year_before) / 12 if year_before else None
        value = series.get(month, 0.0)
        marks.append(mean is not None and value >= MIN_VALUE / 12 and value >= JUMP * max(mean, 1.0))
    return marks


class FlowsCache:
    """The last `read_flows` of a store, recomputed when older than `CACHE_SECONDS`."""

    def __init__(self) -> None:
        self._flows: Flows | None = None
        self._lock = threading.Lock()

    def get(self, store: ServiceStore) -> Flows:
        with self._lock:
            if self._flows is None or time.time() - self._flows.computed_at > CACHE_SECONDS:
                self._flows = read_flows(store)
            return self._flows


def _cache(request: Request) -> FlowsCache:
    state = request.app.state
    if not hasattr(state, "console_flows"):
        state.console_flows = FlowsCache()
    return state.console_flows


@router.get("/flows", response_class=HTMLResponse)
def flows_page(
    request: Request,
    context: Context,
    session: SignedIn,
    hs6: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> Response:
    flows = _cache(request).get(context.store)
    names = dict(zip(chpl_table()["hs6"], chpl_table()["description"], strict=True))
    found = jumps(flows)
    chosen = hs6 or (found[0]["hs6"] if found else next(iter(sorted(flows.values)), None))
    rows = []
    for code in sorted(flows.values):
        imports, exports = flows.yearly(code, IMPORTS), flows.yearly(code, EXPORTS)
        rows.append({"hs6": code, "name": names.get(code, ""), "imports": imports, "exports": exports})
    chart = None
    if chosen is not None:
        series = flows.values.get(chosen, {})
        chart = paired_columns(
            flows.months,
            [series.get(IMPORTS, {}).get(m, 0.0) for m in flows.months],
            [series.get(EXPORTS, {}).get(m, 0.0) for m in flows.months],
            (IMPORTS, EXPORTS),
            f"HS {chosen}: {IMPORTS} and {EXPORTS} by month (USD)",
            month_marks(flows, chosen, EXPORTS),
        )
    return page(
        request, "flows.html", session, flows=flows, rows=rows, jumps=found, chosen=chosen,
        chosen_name=names.get(chosen or "", ""), chart=chart, jump=JUMP, min_value=MIN_VALUE,
        computed=time.strftime("%H:%M:%S", time.localtime(flows.computed_at)),
    )  # fmt: skip
