"""One loader for every options file (simulation, training, ingest mapping), and one way to validate
options given any other way (command-line flags, an API key entry).

A file that is missing, not YAML, not a mapping or breaks a rule raises `ConfigError` (or the subclass the
caller names, e.g. `MappingError`) with the file and, for a rule, the dotted key: "training config
x.yaml: classifier.num_leavs: Extra inputs are not permitted". A YAML error keeps PyYAML's whole message,
with the file name, line, column and the offending text.
"""

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from roundabout.errors import ConfigError

Options = TypeVar("Options", bound=BaseModel)


def describe_errors(error: ValidationError, root: str = "options") -> str:
    """Every problem of a pydantic error as `key.sub: what`, joined, for a one-line message (`root`
    names a problem of the whole, which has no key)."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or root
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def validate_options(
    model_cls: type[Options], body: dict[str, Any], what: str, error: type[ConfigError] = ConfigError
) -> Options:
    """`model_cls` validated from `body`; a problem raises `error` naming `what` and each key."""
    try:
        return model_cls.model_validate(body)
    except ValidationError as exc:
        raise error(f"{what}: {describe_errors(exc)}") from None


def load_yaml_config(
    path: Path,
    model_cls: type[Options],
    what: str,
    overrides: dict[str, Any] | None = None,
    error: type[ConfigError] = ConfigError,
) -> Options:
    """Read a YAML file of options (any subset; empty means defaults), apply the non-None `overrides`,
    validate. `what` names the file in messages ("training config", "mapping")."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        body = _parse(text, str(path))
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML: {exc}") from None
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise error(f"{what} {path} must be a YAML mapping of keys, got {type(body).__name__}")
    body.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return validate_options(model_cls, body, f"{what} {path}", error)


def _parse(text: str, name: str) -> Any:
    """`yaml.safe_load` of `text`, its error marks naming the file and quoting the offending line."""
    loader = yaml.SafeLoader(text)
    loader.name = name  # a str source is "<unicode string>" to PyYAML; a stream would lose the quote
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
