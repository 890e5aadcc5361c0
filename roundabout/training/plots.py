"""Plots logged with every training run (matplotlib, Agg backend, no display needed).

precision and recall at inspection rates, model vs rules baseline; the precision-recall curve; the
calibration (reliability) curve; feature importance; the risk-score distribution by channel.
"""

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve


def rates_vs_baseline(report: dict[str, Any], against: str) -> Figure:
    """Grouped bars of precision and recall per inspection rate, model beside baseline."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    keys = list(report["model"][against]["rates"])
    x = np.arange(len(keys))
    for ax, metric in zip(axes, ("precision", "recall"), strict=True):
        for offset, name in ((-0.2, "model"), (0.2, "baseline")):
            values = [report[name][against]["rates"][k][metric] for k in keys]
            ax.bar(x + offset, values, width=0.4, label=name)
        ax.set_xticks(x, [k.removeprefix("at_").replace("pct", "%") for k in keys])
        ax.set_xlabel("inspection rate")
        ax.set_title(f"{metric} against {against}")
        ax.set_ylim(0, 1)
        ax.legend()
    fig.tight_layout()
    return fig


def pr_curve(curves: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> Figure:
    """Precision-recall curves of several scorers: {name: (scores, positive)}."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, (scores, positive) in curves.items():
        if positive.any() and not positive.all():
            precision, recall, _ = precision_recall_curve(positive, scores)
            ax.plot(recall, precision, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def calibration_curve(table: list[dict[str, float]]) -> Figure:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.plot([r["mean_score"] for r in table], [r["violation_rate"] for r in table], marker="o")
    ax.set_xlabel("mean risk_score (bin)")
    ax.set_ylabel("violation rate (bin)")
    ax.set_title("calibration on inspected holdout lines")
    fig.tight_layout()
    return fig


def feature_importance(importance: dict[str, float], top: int = 25) -> Figure:
    items = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.25 * len(items) + 1))
    ax.barh([k for k, _ in items], [v for _, v in items])
    ax.set_xlabel("total gain")
    ax.set_title("classifier feature importance")
    fig.tight_layout()
    return fig


def score_by_channel(scores: np.ndarray, channels: np.ndarray) -> Figure:
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, max(1e-9, float(np.max(scores))), 50)
    for name, color in (("green", "tab:green"), ("yellow", "gold"), ("red", "tab:red")):
        part = scores[channels == name]
        if len(part):
            ax.hist(part, bins=bins, color=color, alpha=0.8, label=f"{name} ({len(part):,})")
    ax.set_yscale("log")
    ax.set_xlabel("risk_score")
    ax.set_ylabel("holdout lines")
    ax.set_title("risk score by channel")
    ax.legend()
    fig.tight_layout()
    return fig


def close(fig: Figure) -> None:
    plt.close(fig)
