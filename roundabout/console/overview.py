"""The model page (the version serving, its holdout figures against the rules baseline, thresholds and
channel shares, the plots of its training run, the registry's versions) and the monitoring page (the
monitor's latest figures); trade flows are in `flows.py`."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from roundabout.console.charts import bars
from roundabout.console.pages import Context, SignedIn, page

router = APIRouter(prefix="/console", include_in_schema=False)
#: Holdout figures shown side by side: (label, metric suffix after `holdout.<scorer>.`).
FIGURES = (
    ("precision at 1%", "outcomes.rates.at_1pct.precision"),
    ("precision at 5%", "outcomes.rates.at_5pct.precision"),
    ("recall at 5% (outcomes)", "outcomes.rates.at_5pct.recall"),
    ("PR-AUC (outcomes)", "outcomes.pr_auc"),
    ("recall at 5% (truth)", "truth.rates.at_5pct.recall"),
    ("value caught at 5% (truth)", "truth.rates.at_5pct.value_caught"),
)
SCORERS = ("model", "baseline", "raw_lightgbm")
#: A plot's file name in a run: letters, digits, dashes, dots, underscores and slashes only.
PLOT_NAME = r"^[A-Za-z0-9_./-]{1,200}\.png$"


def holdout_table(metrics: dict[str, float]) -> list[dict[str, Any]]:
    """Rows of the holdout figures of the model and its peers (those the run logged)."""
    rows = []
    for label, suffix in FIGURES:
        values = {s: metrics.get(f"holdout.{s}.{suffix}") for s in SCORERS}
        if any(v is not None for v in values.values()):
            rows.append({"label": label, **values})
    return rows


@router.get("/model", response_class=HTMLResponse)
def model_page(request: Request, context: Context, session: SignedIn) -> Response:
    facts = context.serving()
    if facts is None:
        return page(request, "model.html", session, facts=None)
    model = facts.model
    profile = model.profile
    versions, plots = [], []
    if context.registry is not None:
        try:
            versions = context.registry.versions(facts.name)
            plots = context.registry.run_plots(facts.run_id) if facts.run_id else []
        except Exception as exc:  # the registry is down: the page shows what the service holds
            versions, plots = [], []
            request.state.registry_error = f"{type(exc).__name__}"
    importance = sorted(
        ((name, d.importance) for name, d in (profile.inputs.items() if profile else []) if d.importance > 0),
        key=lambda pair: -pair[1],
    )[:15]
    chart = bars(
        [n.replace("_", " ") for n, _ in importance],
        [v for _, v in importance],
        "Share of gain",
        "{:.1%}".format,
    )
    return page(
        request,
        "model.html",
        session,
        facts=facts,
        thresholds=model.thresholds.to_dict(),
        policy=model.policy.to_dict(),
        channels=profile.channels if profile else {},
        reference=profile,
        holdout=holdout_table(facts.holdout_metrics),
        versions=versions,
        plots=plots,
        importance=chart,
        registry_error=getattr(request.state, "registry_error", None),
    )


@router.get("/model/plots/{name:path}")
def model_plot(context: Context, session: SignedIn, name: Annotated[str, Path(max_length=200)]) -> Response:
    """A PNG plot logged with the serving version's training run."""
    facts = context.serving()
    if facts is None or facts.run_id is None or context.registry is None or not re.fullmatch(PLOT_NAME, name):
        return Response("no such plot", 404, media_type="text/plain")
    if name not in context.registry.run_plots(facts.run_id):
        return Response("no such plot", 404, media_type="text/plain")
    body = context.registry.run_plot(facts.run_id, name)
    return Response(body, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, context: Context, session: SignedIn) -> Response:
    report = context.monitoring()
    if report is None:
        return page(request, "monitoring.html", session, report=None)
    ranked = report.drifted(20)
    chart = bars(
        [f.name.replace("_", " ") for f in ranked], [f.psi or 0.0 for f in ranked], "PSI against the holdout"
    )
    return page(request, "monitoring.html", session, report=report, ranked=ranked, chart=chart)
