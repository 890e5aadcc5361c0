"""roundabout: circumvention risk scoring for customs goods lines."""
