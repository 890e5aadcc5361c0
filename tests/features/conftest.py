"""Fixtures of the feature tests: the shared hand-made histories (`tests.support.histories`)."""

from collections.abc import Callable
from types import SimpleNamespace

import pytest

from roundabout.data.io import CanonicalData
from roundabout.features import FeatureArtifacts
from tests.support import histories
from tests.support.replay import assert_same_features


@pytest.fixture
def fitted() -> Callable[[CanonicalData], FeatureArtifacts]:
    """Artifacts fitted on the data itself (enough for tests of history features)."""
    return lambda data: FeatureArtifacts().fit(data.lines, data.inspections, data.extra_columns)


@pytest.fixture
def hist() -> SimpleNamespace:
    """The history builders, as one fixture."""
    return SimpleNamespace(
        line=histories.line,
        data_of=histories.data_of,
        frame_of=histories.frame_of,
        outcomes_of=histories.outcomes_of,
        random_history=histories.random_history,
        assert_same_features=assert_same_features,
        OLD_TRADER=histories.OLD_TRADER,
        NEW_TRADER=histories.NEW_TRADER,
    )
