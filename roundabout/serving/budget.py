"""Office-day inspection budgets in the service (`ROUNDABOUT_OFFICE_RED_PER_DAY`,
`ROUNDABOUT_OFFICE_YELLOW_PER_DAY`): how many lines of one customs office and one day (the line's date) may go
red and yellow.

Each decided line takes a place in its office's budget of its day, in the scoring transaction
(`store/office_places.py`): sanctions-list and exploration lines always take one (the quota is not given
up on a busy day); a model line sent red takes a red place if one is left, else a yellow one, else goes
green, and a model line sent yellow takes a yellow place or goes green. A line sent green by the budget
gets its exploration probability as propensity (it was not drawn). Lines are placed in the order they are
decided, so on a busy day the earlier ones get the places.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from roundabout.models.channels import GREEN, RED, YELLOW
from roundabout.models.policy import MODEL, place
from roundabout.store import ServiceStore


@dataclass(frozen=True)
class OfficeDayBudget:
    """Places per office and day in red and yellow (None: no limit)."""

    red: int | None = None
    yellow: int | None = None

    def place(
        self,
        conn: Connection,
        store: ServiceStore,
        line: Mapping[str, Any],
        result: dict[str, Any],
        exploration: float,
    ) -> None:
        """Give a decided line its place (`policy.place`); `result`'s channel, and its propensity (then
        `exploration`, the line's exploration probability), change if the budget says."""
        wanted = result["channel"]
        if wanted == GREEN:
            return
        places = store.places
        held = places.held(conn, line["line_id"])
        if held is not None:
            result["channel"] = held
            return
        office, day = line.get("customs_office") or "", line["date"]
        caps = {RED: self.red, YELLOW: self.yellow}

        def room(level: str) -> bool:
            cap = caps[level]
            return cap is None or places.taken(conn, office, day, level) < cap

        got = place(wanted, result["selection"] != MODEL, room)
        if got == GREEN:
            result["propensity"] = exploration
        else:
            places.take(conn, line["line_id"], office, day, got)
        result["channel"] = got
