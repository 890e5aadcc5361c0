"""The console's router: its page modules (`signin.py`, `lines.py`, `overview.py`, `flows.py`) and its
static files."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from roundabout.console import flows, lines, overview, signin


def console_router() -> APIRouter:
    """Every console route (none is in the API's OpenAPI schema)."""
    whole = APIRouter(include_in_schema=False)
    for part in (signin.router, lines.router, overview.router, flows.router):
        whole.include_router(part)
    return whole


def static_files() -> StaticFiles:
    return StaticFiles(directory=Path(__file__).parent / "static")
