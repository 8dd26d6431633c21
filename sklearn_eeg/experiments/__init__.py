"""Experiments: run configs, data of a run, the fold evaluator, benchmarks, ablations, sweeps, deep runs."""
