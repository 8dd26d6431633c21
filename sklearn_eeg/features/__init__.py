"""Features of windows: pure feature functions, the FeatureExtractor transformer, the per-recording cache."""
