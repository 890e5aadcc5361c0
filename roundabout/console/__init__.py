"""The analyst console: server-rendered pages under `/console`, served by the scoring service's app.

Officers sign in with an API key holding the `analyst` (or `admin`) scope, exchanged for a signed,
HTTP-only session cookie; every form carries a CSRF token bound to the session. Pages: the queue of red
and yellow lines, a line (its fields, scores, reasons, the trader's history, list matches, every decision,
and the outcome form, which records through the same checks as `POST /v1/feedback`), the model, trade flows
of CHPL goods, and monitoring. Jinja2 templates and inline SVG charts drawn on the server: no script, no
stylesheet or font from the network, so the pages work on a customs network with no internet.

The console sits below `serving/`: the app hands it what it needs as a `ConsoleContext` (`context.py`).
"""

from roundabout.console.context import ConsoleContext, ServingFacts, Signer
from roundabout.console.pages import CONSOLE_PREFIX, error_page
from roundabout.console.routes import console_router, static_files

__all__ = [
    "CONSOLE_PREFIX",
    "ConsoleContext",
    "ServingFacts",
    "Signer",
    "console_router",
    "error_page",
    "static_files",
]
