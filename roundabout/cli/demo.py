"""`roundabout demo`: the main job on the embedded defaults, by the same library calls the other commands
make: simulate a history (and load the sanctions list the simulated world publishes), train and register
(or reuse the version already trained on the same data and config), load the history into the service
store, and serve the API with a key made for this process. With `--drift`, on a world with planted shifts
(`demo_drift.py`): the model learns the months before them, the months after are replayed through the
scoring path and monitored.

The port is checked before any work, so a busy port costs nothing. The demo key lives only in this
process's settings: it is printed once and works until the demo stops; `roundabout serve` afterwards knows
only the keys in ROUNDABOUT_API_KEYS.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from roundabout.cli.data import SANCTIONS_LIST, simulate_into
from roundabout.cli.demo_drift import drift_world, replay_and_monitor, split_world
from roundabout.cli.model import mlflow_service_of
from roundabout.cli.parties import load_list, store_screening
from roundabout.cli.render import console, print_training, rule, say, stage_progress, summary_table
from roundabout.cli.service import require_free_port
from roundabout.cli.store_calls import backfill
from roundabout.settings import Settings

if TYPE_CHECKING:
    from roundabout.models.mlflow_service import MlflowService

HOST = "127.0.0.1"


def demo(
    ctx: typer.Context,
    lines: Annotated[int, typer.Option(help="Lines of simulated history")] = 100_000,
    port: Annotated[int, typer.Option(help="Port of the API")] = 8000,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the API at the end")] = True,
    drift: Annotated[
        Path | None,
        typer.Option(
            help="YAML with a `drift:` list of planted shifts (docs/examples/drift.yaml): train on the "
            "months before the first, replay the rest through the scoring path and show the monitor firing"
        ),
    ] = None,
) -> None:
    """The main job on the embedded defaults: simulate a history, train, register, serve the API."""
    from roundabout.simulation import SimulationConfig
    from roundabout.training import TRAIN_STAGES, TrainConfig, registered_twin, train
    from roundabout.yaml_config import validate_options

    settings: Settings = ctx.obj
    if serve_api:
        require_free_port(HOST, port)
    if drift is None:
        world = validate_options(SimulationConfig, {"n_lines": lines}, "demo options")
    else:
        world = drift_world(drift, lines)
    mlflow_service = mlflow_service_of(settings)
    data_dir = settings.data_dir
    steps = 5 if drift is not None else 4

    rule(f"1/{steps} simulate")
    served_dir = None
    if drift is None:
        simulate_into(world, data_dir)
    else:
        served_dir = split_world(settings, world)
    load_list(settings, data_dir / SANCTIONS_LIST, "simulated")
    rule(f"2/{steps} train and register")
    config = TrainConfig()
    twin = registered_twin(mlflow_service, data_dir, config)
    if twin is not None:
        aliases = ", ".join(f"@{a}" for a in twin.aliases) or "no alias"
        say(
            f"reusing version {twin.version} of {twin.name} ({aliases}): it was trained on the same data "
            "(same content hash) and config, so nothing is trained or registered again"
        )
    screening = store_screening(settings)  # indexed once, for training and the back-fill
    if twin is None:
        with stage_progress(TRAIN_STAGES, "train") as mark:
            print_training(train(data_dir, mlflow_service, config, mark=mark, screening=screening))
    rule(f"3/{steps} load the history into the service store")
    url, counts = backfill(settings, data_dir, chunk=10_000, screening=screening)
    console.print(summary_table(f"backfilled {url}", dict(counts)))
    if served_dir is not None:
        rule(f"4/{steps} replay the shifted months and monitor them")
        replay_and_monitor(settings, mlflow_service, served_dir)
    rule(f"{steps}/{steps} serve")
    serve_with_demo_key(settings, mlflow_service, port, serve_api)


def serve_with_demo_key(
    settings: Settings, mlflow_service: "MlflowService", port: int, serve_api: bool
) -> None:
    """Make a key for this process only, print a curl that uses it, and serve the API with it."""
    from roundabout.serving.keys import ApiKey, hash_key, new_key
    from roundabout.serving.schemas import EXAMPLE_LINE

    key = new_key()
    entry = ApiKey(id="demo", sha256=hash_key(key), scopes=frozenset({"score", "feedback", "admin"}))
    demo_settings = settings.model_copy(update={"api_keys": [entry]})
    body = json.dumps({"lines": [EXAMPLE_LINE], "explain": True, "top_k": 5})
    say("Score a line with reasons (paste into another terminal once the API says it is ready):")
    say(
        f"curl -s -X POST http://{HOST}:{port}/v1/score -H 'X-API-Key: {key}' "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
    say(
        "The demo key works only while this demo runs; `roundabout serve` uses the keys made with "
        "`roundabout keys new` and those in ROUNDABOUT_API_KEYS."
    )
    say(f"MLflow UI: .venv/bin/mlflow ui --backend-store-uri {settings.mlflow_tracking_uri} --port 5000")
    if serve_api:
        import uvicorn

        from roundabout.serving.app import create_app

        app = create_app(demo_settings, mlflow_service)
        uvicorn.run(app, host=HOST, port=port, workers=1, log_level="info", access_log=False)
