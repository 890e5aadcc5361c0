"""The project stands on its own: it cites primary sources, not notes a user does not have, and every page
of docs/ is reachable from the README."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Notes outside the repository that code and docs once cited. Built from parts so this file does not cite
#: them itself.
FORBIDDEN = tuple(
    re.escape(name) for name in ("DOMAIN" + ".md", "PRODUCT" + ".md", "shared" + "/" + "domain")
)


def tracked_files() -> list[Path]:
    """Files git tracks (committed or staged); every file outside dot-folders when git is not available."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return [
            p
            for p in ROOT.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
        ]
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_file_cites_notes_outside_the_repository() -> None:
    pattern = re.compile("|".join(FORBIDDEN).encode(), re.IGNORECASE)
    files = [p for p in tracked_files() if p.is_file()]
    assert len(files) > 50, "the file listing found too few files to check"
    offenders = []
    for path in files:
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, "cite the primary source instead: " + ", ".join(offenders)


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[^)#\s]+\.md)(?:#[^)]*)?\)", readme))
    pages = {f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    assert pages, "no docs pages found"
    assert not pages - linked, f"not linked from README.md: {sorted(pages - linked)}"


def test_the_training_options_table_is_the_configs() -> None:
    """docs/models.md lists every `train --config` option, its default and meaning, as the code has them."""
    from roundabout.training.config import describe_options

    text = (ROOT / "docs" / "models.md").read_text()
    rows = [f"| `{key}` | `{default}` | {meaning} |" for key, default, meaning in describe_options()]
    table = text[text.index("| key | default | meaning |") :].split("\n\n")[0].splitlines()[2:]
    assert table == rows
