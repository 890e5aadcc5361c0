"""Feature engineering: turns canonical goods lines into point-in-time model inputs, one definition for both
the batch path (training and back-fills over a whole history, `build_features`) and the online path
(serving one line from the service store of lines seen so far, `roundabout.store`). The catalogue
(`FEATURES`) names every feature with its family, meaning, motivating red flag and reason text; statistics
fitted on training data (unit-value references, category levels) live in `FeatureArtifacts`, saved with a
version and content hash and used unchanged at scoring time.
"""

from roundabout.features.artifacts import FEATURES_VERSION, ArtifactsError, FeatureArtifacts
from roundabout.features.build import build_features, feature_names
from roundabout.features.catalogue import FEATURE_NAMES, FEATURES, FeatureSpec

__all__ = [
    "FEATURES",
    "FEATURES_VERSION",
    "FEATURE_NAMES",
    "ArtifactsError",
    "FeatureArtifacts",
    "FeatureSpec",
    "build_features",
    "feature_names",
]
