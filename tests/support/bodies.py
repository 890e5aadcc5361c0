"""Request bodies of the API tests."""

import copy
from typing import Any

from roundabout.serving.schemas import EXAMPLE_LINE


def api_line(**changes: Any) -> dict[str, Any]:
    """The documented example line, as JSON sends it, with some fields changed."""
    out = copy.deepcopy(EXAMPLE_LINE)
    out.update(changes)
    return out
