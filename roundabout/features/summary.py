"""A printable summary of a feature frame: size, null shares, and the distributions worth a glance."""

import pandas as pd
from rich.table import Table

#: Features whose distribution the summary shows (the ones a reader checks first for sanity).
HIGHLIGHTS = (
    "chpl_tier12",
    "destination_ru_by",
    "uv_kg_abs_z",
    "trader_age_days",
    "trader_value_spike",
    "chain_lag_days",
    "chain_reship_share",
    "declarant_violation_rate",
)


def feature_summary(frame: pd.DataFrame, top_nulls: int = 10) -> tuple[dict[str, object], Table, Table]:
    """Overview figures, the features with the most nulls, and quantiles of the highlighted features."""
    null_share = frame.isna().mean().sort_values(ascending=False)
    overview: dict[str, object] = {
        "rows": len(frame),
        "features": frame.shape[1],
        "features with no nulls": int((null_share == 0).sum()),
        "mean null share": f"{null_share.mean():.1%}",
    }
    nulls = Table(title="most nulls", title_justify="left")
    nulls.add_column("feature")
    nulls.add_column("null share", justify="right")
    for name, share in null_share.head(top_nulls).items():
        nulls.add_row(str(name), f"{share:.1%}")
    dist = Table(title="distributions", title_justify="left")
    for col in ("feature", "non-null", "mean", "p10", "p50", "p90", "max"):
        dist.add_column(col, justify="left" if col == "feature" else "right", no_wrap=True)
    for name in HIGHLIGHTS:
        if name not in frame.columns:
            continue
        values = frame[name].dropna()
        if values.empty:
            dist.add_row(name, "0", "", "", "", "", "")
            continue
        q = values.quantile([0.1, 0.5, 0.9])
        dist.add_row(
            name,
            f"{len(values):,}",
            *(f"{v:,.3g}" for v in (values.mean(), q.iloc[0], q.iloc[1], q.iloc[2], values.max())),
        )
    return overview, nulls, dist
