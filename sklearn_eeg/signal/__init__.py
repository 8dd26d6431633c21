"""Signal to windows: filtering (sklearn transformers), the on-disk window store, spectrograms."""
