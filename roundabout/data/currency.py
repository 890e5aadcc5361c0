"""Declared values in the currency of the declaration, converted to US dollars with a table of daily rates.

Administrations declare customs values in tenge, roubles, euros or dollars, each line with its currency
code; the canonical model holds US dollars (`value_usd`). A mapping names the currency column and a rates
file given with it (CSV: `date, currency, rate`, the US dollars one unit of the currency buys on that
day, as a national bank publishes them). A line takes the rate of its date, or the latest one published
up to `max_age_days` before it (rates are not published on weekends and holidays); a line without one is
rejected with the reason, never converted with a guess.
"""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from roundabout.errors import ConfigError

#: The columns of a rates file.
RATE_COLUMNS = ("date", "currency", "rate")


def read_rates(path: Path, usd: str = "USD") -> pd.DataFrame:
    """A rates file, checked whole: a bad row raises ConfigError naming the file, the row and the problem.
    `usd` (rate 1 on every day) need not be in it."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"rates file {path}: cannot be read ({exc})") from None
    missing = [c for c in RATE_COLUMNS if c not in raw.columns]
    if missing:
        raise ConfigError(
            f"rates file {path}: columns {', '.join(missing)} are missing (it needs date, currency, rate)"
        )
    dates = pd.to_datetime(raw["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    currency = raw["currency"].str.strip().str.upper()
    rate = pd.to_numeric(raw["rate"].str.strip(), errors="coerce")
    problems = [
        (dates.isna(), "date", "is not a date (YYYY-MM-DD)"),
        (~currency.str.fullmatch(r"[A-Z]{3}"), "currency", "is not a three-letter currency code"),
        (~(np.isfinite(rate) & (rate > 0)), "rate", "is not a positive number"),
    ]
    for bad, column, reason in problems:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ConfigError(
                f"rates file {path}, row {row + 1}: {column} {raw[column].iloc[row]!r} {reason}"
            )
    table = pd.DataFrame(
        {"date": dates.astype("datetime64[ns]"), "currency": currency, "rate": rate.astype("float64")}
    )
    twice = table.duplicated(["date", "currency"])
    if twice.any():
        row = int(np.flatnonzero(twice.to_numpy())[0])
        raise ConfigError(
            f"rates file {path}, row {row + 1}: a second rate for {table['currency'].iloc[row]} on "
            f"{table['date'].iloc[row].date()}"
        )
    return table[table["currency"] != usd.upper()].sort_values("date", kind="stable").reset_index(drop=True)


def rates_for(
    rates: pd.DataFrame, dates: pd.Series, currencies: pd.Series, max_age_days: int, usd: str = "USD"
) -> np.ndarray:
    """The rate of each (date, currency): that day's, else the latest within `max_age_days` before it;
    1 for `usd`; NaN where there is none."""
    n = len(dates)
    code = currencies.astype("str").str.strip().str.upper().to_numpy()
    out = np.full(n, np.nan)
    out[code == usd.upper()] = 1.0
    when = pd.to_datetime(dates).astype("datetime64[ns]").to_numpy()
    want = pd.DataFrame({"date": when, "currency": code, "row": np.arange(n)})
    want = want[(code != usd.upper()) & want["date"].notna().to_numpy()].sort_values("date", kind="stable")
    if len(want) and len(rates):
        found = pd.merge_asof(
            want,
            rates,
            on="date",
            by="currency",
            direction="backward",
            tolerance=pd.Timedelta(timedelta(days=max_age_days)),
        )
        out[found["row"].to_numpy()] = found["rate"].to_numpy()
    return out
