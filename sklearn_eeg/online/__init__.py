"""Online forecasting: a live EEG stream in chunks, a risk per completed window, alarms as they happen.

See :mod:`sklearn_eeg.online.forecaster` for the data flow and the causal offline reference the online
output equals.
"""

from sklearn_eeg.online.alarm_state import AlarmState
from sklearn_eeg.online.causal import CausalFilter, causal_filter
from sklearn_eeg.online.chance import PeriodicStream, RandomWalkStream
from sklearn_eeg.online.deep_run import load_cnn, load_fusion
from sklearn_eeg.online.forecaster import OnlineForecaster, StreamOutput, offline_causal_risk
from sklearn_eeg.online.run_folder import RunModel, load_run_model
from sklearn_eeg.online.sources import array_chunks, recording_chunks
from sklearn_eeg.online.streaming_fusion import StreamingFusion
from sklearn_eeg.online.window_buffer import WindowBuffer

__all__ = [
    "AlarmState",
    "CausalFilter",
    "OnlineForecaster",
    "PeriodicStream",
    "RandomWalkStream",
    "RunModel",
    "StreamOutput",
    "StreamingFusion",
    "WindowBuffer",
    "array_chunks",
    "causal_filter",
    "load_cnn",
    "load_fusion",
    "load_run_model",
    "offline_causal_risk",
    "recording_chunks",
]
