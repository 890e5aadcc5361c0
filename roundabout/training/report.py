"""The holdout report as Rich tables, printed by `roundabout train` and `roundabout evaluate`."""

from typing import Any

from rich.console import Console
from rich.table import Table


def _pct(value: float) -> str:
    return f"{value:.3f}"


def rates_table(report: dict[str, Any], against: str) -> Table:
    title = {
        "outcomes": "against inspection outcomes (inspected lines)",
        "truth": "against ground truth (all lines)",
    }
    table = Table(title=f"model vs rules baseline, {title[against]}", title_justify="left")
    table.add_column("rate")
    for name in ("model", "base"):
        for metric in ("prec", "recall", "value"):
            table.add_column(f"{name} {metric}", justify="right")
    for key in report["model"][against]["rates"]:
        row = [key.removeprefix("at_").replace("pct", "%")]
        for name in ("model", "baseline"):
            r = report[name][against]["rates"][key]
            row += [_pct(r["precision"]), _pct(r["recall"]), _pct(r["value_caught"])]
        table.add_row(*row)
    for metric in ("pr_auc", "roc_auc"):
        table.add_row(metric.upper().replace("_", "-"), _pct(report["model"][against][metric]), "", "",
                      _pct(report["baseline"][against][metric]), "", "")  # fmt: skip
    return table


def schemes_table(report: dict[str, Any]) -> Table:
    truth = report["model"]["truth"]
    keys = list(truth["rates"])
    table = Table(title="recall per scheme against ground truth (model / baseline)", title_justify="left")
    table.add_column("scheme")
    table.add_column("lines", justify="right")
    for key in keys:
        table.add_column(key.removeprefix("at_").replace("pct", "%"), justify="right")
    rows = {**truth["schemes"], "never inspected": truth["never_inspected"]}
    base = report["baseline"]["truth"]
    for name, part in rows.items():
        other = base["schemes"].get(name) if name != "never inspected" else base["never_inspected"]
        cells = [
            f"{part['recall'][k]:.2f} / {other['recall'][k]:.2f}" if other else f"{part['recall'][k]:.2f}"
            for k in keys
        ]
        table.add_row(name, f"{part['positives']:,}", *cells)
    return table


def print_report(report: dict[str, Any], console: Console) -> None:
    """Every table of a holdout report."""
    console.print(rates_table(report, "outcomes"))
    if "truth" in report["model"]:
        console.print(rates_table(report, "truth"))
        console.print(schemes_table(report))
    calib = report["model"]["outcomes"].get("calibration")
    if calib:
        outcomes = report["model"]["outcomes"]
        console.print(
            f"calibration on inspected lines: Brier {calib['brier']:.4f}, ECE {calib['ece']:.4f} "
            f"({outcomes['lines']:,} lines, {outcomes['positives']:,} violations)"
        )
