"""The errors a user can act on, in one hierarchy: each carries the HTTP status the API answers with and the
exit code the CLI ends with, so both edges render every error the same way (the API as `{"detail": ...}`,
the CLI as `error: ...` on stderr) and nothing below them needs to know which edge is calling.

Anything else raised is a defect: the API answers 500 and logs it, the CLI shows the traceback.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class RoundaboutError(Exception):
    """Base of every error a user can act on. `status`: the API's HTTP status; `exit_code`: the CLI's."""

    status: int = 400
    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def detail(self) -> Any:
        """The API's `detail` body: the message, or a list of problems naming fields."""
        return self.message


class InvalidInputError(RoundaboutError):
    """A value that breaks a rule: names the field, the reason, the value and (in a batch or a file) the
    1-based row. It is the first of `problems`, every problem found in the same record."""

    status = 422

    def __init__(self, field: str, reason: str, value: Any = None, row: int | None = None) -> None:
        self.field, self.reason, self.value, self.row = field, reason, value, row
        where = f" (row {row})" if row is not None else ""
        shown = f"; got {value!r}" if value is not None else ""
        super().__init__(f"{field}: {reason}{shown}{where}")
        self.problems: list[InvalidInputError] = [self]

    def detail(self) -> list[dict[str, Any]]:
        return [{"field": p.field, "msg": p.message, "type": "invalid"} for p in self.problems]


class ConfigError(RoundaboutError):
    """A configuration, mapping or options file that cannot be used; the message names the key."""

    status = 422


class NotFoundError(RoundaboutError):
    """A file, folder, model version or record that does not exist; the message says where it looked."""

    status = 404


class ConflictError(RoundaboutError):
    """A record that contradicts one already stored under the same id (an inspection outcome sent again
    with another result): refused, so what was acknowledged before is never silently replaced or dropped."""

    status = 409


class UnavailableError(RoundaboutError):
    """A part the call needs is down or not ready (the store, the registry, the model): retry later."""

    status = 503
    exit_code = 3


class OutputError(RoundaboutError):
    """A file or folder that cannot be written (no permission, no space, a file where a folder should be)."""

    status = 500


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError while writing `path` into an `OutputError` that names it."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
