"""The loop's results as people read them: a summary per policy, the curves per period (PNG), and one MLflow
run holding both.

Summary per policy:
- `found_before`: violations found in the periods wholly before the new scheme began, and `vs_greedy`, that
  count over the greedy policy's (the price of exploring while nothing new happens);
- `found`, `circumvention_found`, `value_caught` (mean per period), `inspections` over the whole run;
- `detected_after`: periods from the scheme's first period to the first in which the policy selected at
  least half of the scheme's lines (1: in its first period; empty: not within the run), `detected_90_after`
  the same for nine lines in ten, and the share it selected in the last period;
- `ipw_error` and `naive_error`: the mean absolute gap, in points, between the retrained models' precision
  estimated from the holdout's inspections (inverse-propensity and naive) and the truth.
"""

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from roundabout.loop.config import LoopConfig
from roundabout.loop.run import LoopResult
from roundabout.models.mlflow_service import MlflowService

#: At least this many of the new scheme's lines in a period for it to count towards detection.
MIN_SCHEME_LINES = 5


def summary(result: LoopResult) -> pd.DataFrame:
    """One row per policy (see the module docstring)."""
    config, periods = result.config, result.periods
    starts = pd.Timestamp(config.new_scheme_starts)
    step = pd.DateOffset(months=1) if config.period == "month" else pd.DateOffset(weeks=1)
    before = periods["start"].map(lambda s: pd.Timestamp(s) + step <= starts)
    rows = []
    for name, part in periods.groupby("policy", sort=False):
        share = part["new_scheme_selected"] / part["new_scheme_lines"].where(part["new_scheme_lines"] > 0)
        running = part[~before[part.index] & (part["new_scheme_lines"] >= MIN_SCHEME_LINES)]

        def after(level: float, running: pd.DataFrame = running, share: pd.Series = share) -> int | None:
            reached = running[share[running.index] >= level]
            return int(reached["period"].min() - running["period"].min() + 1) if len(reached) else None

        rows.append(
            {
                "policy": name,
                "found_before": int(part.loc[before[part.index], "violations_found"].sum()),
                "found": int(part["violations_found"].sum()),
                "circumvention_found": int(part["circumvention_found"].sum()),
                "value_caught": float(part["value_caught"].mean()),
                "inspections": int(part["inspections"].sum()),
                "explored": int(part["explored"].sum()),
                "detected_after": after(0.5),
                "detected_90_after": after(0.9),
                "last_share_selected": float(share.iloc[-1]) if np.isfinite(share.iloc[-1]) else np.nan,
            }
        )
    out = pd.DataFrame(rows).set_index("policy")
    reference = out["found_before"].get("greedy", out["found_before"].iloc[0])
    out.insert(1, "vs_greedy", out["found_before"] / reference if reference else np.nan)
    if len(result.retrains):
        gaps = result.retrains.assign(
            ipw_error=(result.retrains["ipw_estimate"] - result.retrains["truth"]).abs() * 100,
            naive_error=(result.retrains["naive_estimate"] - result.retrains["truth"]).abs() * 100,
        )
        out = out.join(gaps.groupby("policy")[["ipw_error", "naive_error"]].mean())
    return out


def curves(result: LoopResult) -> Figure:
    """Per period and policy: violations found, circumvention lines found, value caught, and the share of
    the new scheme's lines selected (the dotted line marks the scheme's start)."""
    periods, config = result.periods, result.config
    share = periods["new_scheme_selected"] / periods["new_scheme_lines"].where(
        periods["new_scheme_lines"] > 0
    )
    panels = [
        ("violations_found", periods["violations_found"], "violations found"),
        ("circumvention_found", periods["circumvention_found"], "circumvention lines found (truth)"),
        ("value_caught", periods["value_caught"], "share of circumvention value caught"),
        ("new_scheme", share, f"share of the new scheme's lines selected ({config.new_scheme})"),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8), sharex=True)
    first_new = _first_period_of_scheme(periods, config)
    for ax, (_, values, title) in zip(axes.ravel(), panels, strict=True):
        for name, part in periods.groupby("policy", sort=False):
            style = "--" if name.endswith("noipw") else "-"
            ax.plot(part["period"], values[part.index], style, marker="o", markersize=3, label=name)
        if first_new is not None:
            ax.axvline(first_new, color="grey", linestyle=":")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[1, 1].axhline(0.5, color="black", linewidth=0.6)
    for ax in axes[1]:
        ax.set_xlabel(f"{config.period} of deployment")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(
        f"{config.lines:,}-line world, seed {config.seed}: capacity {config.red_share:.0%} of lines, "
        f"retrained every {config.retrain_every} {config.period}s"
    )
    fig.tight_layout()
    return fig


def _first_period_of_scheme(periods: pd.DataFrame, config: LoopConfig) -> int | None:
    starts = pd.Timestamp(config.new_scheme_starts)
    later = periods.loc[periods["start"].map(pd.Timestamp) >= starts, "period"]
    return int(later.min()) if len(later) else None


def write(result: LoopResult, out: Path) -> dict[str, Path]:
    """The periods, retrainings and summary as CSV, and the curves as PNG, under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "periods": out / "loop_periods.csv",
        "retrains": out / "loop_retrains.csv",
        "summary": out / "loop_summary.csv",
        "curves": out / "loop_curves.png",
    }
    result.periods.to_csv(paths["periods"], index=False)
    result.retrains.to_csv(paths["retrains"], index=False)
    summary(result).to_csv(paths["summary"])
    fig = curves(result)
    fig.savefig(paths["curves"], dpi=110)
    plt.close(fig)
    return paths


def log(result: LoopResult, mlflow_service: MlflowService, experiment: str = "loop") -> str:
    """One MLflow run with the options, the summary per policy as metrics, the tables and the curves."""
    table = summary(result)
    with mlflow_service.start_run(experiment) as run_id:
        params = {k: str(v) for k, v in result.config.model_dump(mode="json").items() if k != "policies"}
        params["policies"] = ", ".join(p.name for p in result.config.policies)
        mlflow_service.log_params(run_id, params)
        metrics: dict[str, float] = {}
        for policy, row in table.iterrows():
            for key, value in row.items():
                if value is not None and np.isfinite(float(value)):
                    metrics[f"{policy}.{key}"] = float(value)
        metrics |= {f"seconds.{k}": v for k, v in result.seconds.items()}
        mlflow_service.log_metrics(run_id, metrics)
        mlflow_service.log_dict(run_id, _records(result.periods), "loop/periods.json")
        mlflow_service.log_dict(run_id, _records(result.retrains), "loop/retrains.json")
        mlflow_service.log_dict(run_id, _records(table.reset_index()), "loop/summary.json")
        fig = curves(result)
        mlflow_service.log_figure(run_id, fig, "plots/loop_curves.png")
        plt.close(fig)
        mlflow_service.set_tags(run_id, {"mlflow.runName": "simulate-loop"})
    return run_id


def _records(frame: pd.DataFrame) -> dict[str, Any]:
    return {"rows": frame.astype(object).where(frame.notna(), None).to_dict(orient="records")}
