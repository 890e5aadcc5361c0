"""Signing in and out: an API key with the analyst or admin scope is exchanged for a session cookie
(`session.py`); the sign-in form carries its own short-lived CSRF token."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roundabout.console.context import ConsoleContext
from roundabout.console.pages import CONSOLE_PREFIX, Context, SignedIn, check_csrf, page, safe_next
from roundabout.console.session import (
    COOKIE,
    SCOPES,
    SIGNIN_COOKIE,
    SIGNIN_SECONDS,
    new_session,
    same_token,
    signin_token,
    signin_token_of,
)

router = APIRouter(prefix=CONSOLE_PREFIX, include_in_schema=False)


@router.get("")
@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/console/queue", 303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(
    request: Request, context: Context, next: str | None = None, error: str | None = None
) -> Response:
    token, value = signin_token(context)
    response = page(request, "signin.html", None, next=safe_next(next), csrf=token, error=error)
    _cookie(response, context, SIGNIN_COOKIE, value, SIGNIN_SECONDS)
    return response


@router.post("/signin")
def signin(
    request: Request,
    context: Context,
    key: Annotated[str, Form(max_length=512)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    """Exchange a key with the analyst or admin scope for a session cookie."""
    if not same_token(signin_token_of(context, request.cookies.get(SIGNIN_COOKIE)), csrf):
        return _signin_again(request, context, next, "The sign-in form expired: sign in again.", 403)
    found = context.keys.find(key.strip()) if key.strip() else None
    if found is None:
        return _signin_again(request, context, next, "Unknown key.", 401)
    key_id, scopes = found
    if not SCOPES & set(scopes):
        return _signin_again(request, context, next, f"The key {key_id!r} lacks the analyst scope.", 403)
    _, value = new_session(context, key_id)
    response = RedirectResponse(safe_next(next), 303)
    _cookie(response, context, COOKIE, value, context.session_minutes * 60)
    response.delete_cookie(SIGNIN_COOKIE, path="/console")
    return response


@router.post("/signout")
def signout(session: SignedIn, csrf: Annotated[str, Form(max_length=128)] = "") -> Response:
    check_csrf(session, csrf)
    response = RedirectResponse("/console/signin", 303)
    response.delete_cookie(COOKIE, path="/console")
    return response


def _signin_again(request: Request, context: Context, next: str, error: str, status: int) -> Response:
    token, value = signin_token(context)
    response = page(request, "signin.html", None, status, next=safe_next(next), csrf=token, error=error)
    _cookie(response, context, SIGNIN_COOKIE, value, SIGNIN_SECONDS)
    return response


def _cookie(response: Response, context: ConsoleContext, name: str, value: str, seconds: int) -> None:
    response.set_cookie(
        name, value, max_age=seconds, path="/console", httponly=True, samesite="strict",
        secure=context.secure_cookies,
    )  # fmt: skip
