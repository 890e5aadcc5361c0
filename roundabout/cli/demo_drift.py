"""`roundabout demo --drift FILE`: the demo on a world with planted shifts, so the monitor is seen firing.

The world is simulated whole, then cut at the first shift's start: the months before are the history the
model is trained on and the store is loaded with; the months after are replayed through the service's own
scoring path (`serving.replay`: features from the store, decisions recorded with their inputs, outcomes fed
back as their dates pass), then `roundabout monitor` runs on them and writes its report. The API then
serves as in the plain demo; `GET /v1/monitoring` shows the same figures.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundabout.cli.render import console, count_progress, say, summary_table
from roundabout.errors import ConfigError
from roundabout.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from roundabout.data.io import CanonicalData
    from roundabout.models.mlflow_service import MlflowService
    from roundabout.simulation import SimulationConfig

#: Where the demo keeps the whole world and the replayed months, under the home folder.
WORLD, SERVED, REPORT = "world", "served", "monitor-report.html"


def drift_world(path: Path, lines: int) -> "SimulationConfig":
    """The world of the demo options and the shifts of `path` (a YAML mapping with `drift:` and, if
    wanted, other world options); every shift must say when it starts."""
    from roundabout.simulation import SimulationConfig
    from roundabout.yaml_config import load_yaml_config

    world = load_yaml_config(path, SimulationConfig, "drift file", {"n_lines": lines})
    if not world.drift:
        raise ConfigError(f"--drift {path}: no `drift:` list of shifts in it (docs/simulation.md)")
    if any(shift.starts is None for shift in world.drift):
        raise ConfigError(
            f"--drift {path}: every shift needs `starts` (the demo trains on the months before)"
        )
    return world


def cut(data: "CanonicalData", day: "pd.Timestamp") -> tuple["CanonicalData", "CanonicalData"]:
    """The lines before `day` and from it, each with its own lines' outcomes."""
    from roundabout.data.io import CanonicalData

    parts = []
    for keep in (data.lines["date"] < day, data.lines["date"] >= day):
        lines = data.lines[keep.to_numpy()].reset_index(drop=True)
        outcomes = data.inspections[data.inspections["line_id"].isin(set(lines["line_id"]))]
        parts.append(CanonicalData(lines, outcomes.reset_index(drop=True), None, data.extra_columns))
    return parts[0], parts[1]


def split_world(settings: Settings, world: "SimulationConfig") -> Path:
    """Simulate `world` under home/world, write its history to the data folder (with the world's sanctions
    list); returns the folder of the replayed months."""
    import shutil

    from roundabout.cli.data import SANCTIONS_LIST, simulate_into
    from roundabout.data.io import read_folder, write_folder

    whole = settings.home / WORLD
    simulate_into(world, whole)
    start = min(shift.starts for shift in world.drift if shift.starts is not None)
    import pandas as pd

    history, served = cut(read_folder(whole), pd.Timestamp(start))
    if len(served.lines) == 0 or len(history.lines) == 0:
        raise ConfigError(
            f"--drift: the first shift starts {start}, which leaves no history or no months after"
        )
    write_folder(history, settings.data_dir, manifest={"demo": f"history before {start}"})
    (settings.data_dir / SANCTIONS_LIST).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(whole / SANCTIONS_LIST, settings.data_dir / SANCTIONS_LIST)
    write_folder(served, settings.home / SERVED, manifest={"demo": f"replayed from {start}"})
    say(
        f"history: {len(history.lines):,} lines before {start}; replayed: {len(served.lines):,} lines from it"
    )
    return settings.home / SERVED


def replay_and_monitor(settings: Settings, mlflow_service: "MlflowService", served_dir: Path) -> None:
    """Replay the served months through the scoring path with the champion, then monitor them."""
    from roundabout.cli.monitor import show_report
    from roundabout.cli.store_calls import opened, rules_of
    from roundabout.data.io import read_folder
    from roundabout.monitoring import monitor_store
    from roundabout.monitoring.html import write_html
    from roundabout.parties.index import ScreeningIndex
    from roundabout.serving.replay import replay

    name, alias = settings.registered_model, settings.model_alias
    label = (name, mlflow_service.resolve(name, alias).version)
    model = mlflow_service.load_model(f"models:/{name}/{label[1]}")
    served = read_folder(served_dir)
    with opened(settings, "write") as store:
        loaded = store.sanction_lists.load()
        screening = ScreeningIndex.build(loaded) if loaded else None
        with count_progress("replay through the scoring path", len(served.lines)) as advance:
            done = replay(store, model, label, served, rules_of(settings), screening, on_lines=advance)
        report = monitor_store(store, model, label)
    console.print(summary_table(f"replayed {served_dir}", {"lines": done.lines, **_channels(done.channels)}))
    show_report(report, label)
    path = write_html(report, settings.home / REPORT)
    say(f"monitoring report: {path} (roundabout monitor writes it again; GET /v1/monitoring serves it)")


def _channels(counts: dict[str, int]) -> dict[str, Any]:
    return {f"channel {c}": n for c, n in counts.items()}
