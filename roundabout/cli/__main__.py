"""`python -m roundabout.cli`: the same command as the `roundabout` console script."""

from roundabout.cli import app

app()
