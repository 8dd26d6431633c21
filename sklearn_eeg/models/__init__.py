"""Models: the registry of every model name, classical and chance baselines, skorch estimators, networks."""
