"""What every console page shares: the templates and their filters, the context and session
dependencies, the CSRF check, and the renderers of a page and of an error page."""

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from roundabout.console.context import ConsoleContext
from roundabout.console.session import COOKIE, Session, read_session, same_token

CONSOLE_PREFIX = "/console"
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters["q"] = lambda value: quote(str(value), safe="")
templates.env.filters["pct"] = lambda value: "" if value is None else f"{value:.1%}"
templates.env.filters["money"] = lambda value: "" if value is None else f"${value:,.0f}"
templates.env.filters["num"] = lambda value, p=3: "" if value is None else f"{value:.{p}f}"
templates.env.filters["when"] = lambda value: (
    "" if value is None else str(value)[:19].replace("T", " ") + " UTC"
)


async def get_context(request: Request) -> ConsoleContext:
    return request.app.state.console


Context = Annotated[ConsoleContext, Depends(get_context)]


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a console page of this site, never elsewhere (no open redirect)."""
    if path and path.startswith("/console/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/console/queue"


async def signed_in(request: Request, context: Context) -> Session:
    """The visitor's session, or a redirect to the sign-in page (coming back here after)."""
    session = read_session(context, request.cookies.get(COOKIE))
    if session is None:
        target = quote(str(request.url.path), safe="/")
        raise HTTPException(303, "sign in first", headers={"Location": f"/console/signin?next={target}"})
    return session


SignedIn = Annotated[Session, Depends(signed_in)]


def check_csrf(session: Session, sent: str | None) -> None:
    """Refuse a form whose CSRF token is not the session's (403)."""
    if not same_token(session.csrf, sent):
        raise HTTPException(403, "the form's CSRF token does not match this session: reload the page")


def page(
    request: Request, name: str, session: Session | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """A page from its template, with the session (for the header and the forms' CSRF token)."""
    values |= {"session": session, "path": request.url.path}
    response = templates.TemplateResponse(request, name, values, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, code: int, detail: Any, headers: dict[str, str] | None = None) -> Response:
    """An error on a console path as a page (the API answers the same errors as JSON)."""
    if isinstance(detail, list):
        detail = "; ".join(str(p.get("msg", p)) if isinstance(p, dict) else str(p) for p in detail)
    values = {"session": None, "path": request.url.path, "code": code, "detail": str(detail)}
    return templates.TemplateResponse(request, "error.html", values, status_code=code, headers=headers)
