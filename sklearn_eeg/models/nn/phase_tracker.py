"""Phase tracker of a multi-phase fit: which phases finished, with their epochs, losses and checkpoint.

A multi-phase fit (:class:`~sklearn_eeg.models.multiphase.MultiPhaseCNNClassifier`: pretraining,
contrastive training, fine-tuning) writes one manifest, ``phases.json``, in its run folder. An entry
is added only once a phase has finished *and* its checkpoint is on disk, and the manifest is replaced
atomically (:func:`sklearn_eeg.atomic_files.atomic_write`), so after a crash or a kill the manifest
names exactly the phases that can be reused: a rerun loads their checkpoints and starts at the first
phase without an entry.

Entries are keyed by the *chain* of phases that produced them (``"pretrain"``,
``"pretrain>contrastive"``, ``"pretrain>contrastive>finetune"``...) and carry a cumulative
``key``: a hash of the parameters of every phase of the chain. An entry whose key differs from the
one asked for (parameters changed since) is not reused, and runs that share a chain prefix with
the same parameters share its checkpoint (``pretrain → fine-tune`` and ``pretrain → contrastive →
fine-tune`` pretrain once).

Manifest format::

    {"version": 1, "run_key": "<data + shared parameters>",
     "phases": {"pretrain": {"phase": "pretrain", "key": "...", "epochs": 2, "losses": [0.9, 0.7],
                             "checkpoint": "pretrain-1a2b3c4d/encoder.pt", "finished": "2026-...Z"}, ...}}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sklearn_eeg.atomic_files import atomic_write_text

__all__ = ["MANIFEST", "PhaseTracker"]

MANIFEST = "phases.json"
_VERSION = 1


class PhaseTracker:
    """Read and update the manifest of one multi-phase run folder.

    Parameters
    ----------
    directory : str or Path
        The run folder (created if needed).
    run_key : str
        Identity of the data and the parameters every phase shares. A manifest written for another
        key is ignored (and replaced at the next :meth:`record`).

    Examples
    --------
    >>> import tempfile
    >>> tracker = PhaseTracker(tempfile.mkdtemp(), run_key="abc")
    >>> folder = tracker.checkpoint_folder("pretrain", "k1")
    >>> _ = (folder / "encoder.pt").write_bytes(b"weights")
    >>> _ = tracker.record("pretrain", phase="pretrain", key="k1", epochs=2, losses=[1.0, 0.5],
    ...                    checkpoint=folder / "encoder.pt")
    >>> tracker.finished("pretrain", "k1")["epochs"], tracker.finished("pretrain", "other key")
    (2, None)
    """

    def __init__(self, directory: str | Path, run_key: str) -> None:
        self.directory = Path(directory)
        self.run_key = run_key
        self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def path(self) -> Path:
        """The manifest file."""
        return self.directory / MANIFEST

    def entries(self) -> dict[str, dict[str, Any]]:
        """Finished phases by chain; empty for a missing, unreadable or foreign manifest."""
        try:
            manifest = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if manifest.get("version") != _VERSION or manifest.get("run_key") != self.run_key:
            return {}
        return dict(manifest.get("phases", {}))

    def checkpoint_folder(self, chain: str, key: str) -> Path:
        """Folder (created) for the checkpoint of ``chain`` with cumulative key ``key``."""
        folder = self.directory / f"{chain.replace('>', '-')}-{key[:8]}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def finished(self, chain: str, key: str) -> dict[str, Any] | None:
        """The entry of ``chain`` when it was recorded with ``key`` and its checkpoint exists, else None.

        The entry's ``checkpoint`` is returned as an absolute :class:`~pathlib.Path`.
        """
        entry = self.entries().get(chain)
        if entry is None or entry.get("key") != key:
            return None
        checkpoint = self.directory / entry["checkpoint"]
        if not checkpoint.exists():
            return None
        return {**entry, "checkpoint": checkpoint}

    def record(
        self, chain: str, *, phase: str, key: str, epochs: int, losses: Sequence[float], checkpoint: str | Path
    ) -> Path:
        """Add (or replace) the entry of a finished phase whose checkpoint is already written.

        Parameters
        ----------
        chain : str
            Phases up to this one, joined by ``">"``.
        phase : str
            This phase's name.
        key : str
            Cumulative hash of the chain's parameters.
        epochs : int
            Epochs trained.
        losses : sequence of float
            Training loss per epoch.
        checkpoint : str or Path
            The checkpoint file or folder, inside the run folder.

        Returns
        -------
        Path
            The manifest file.
        """
        checkpoint = Path(checkpoint)
        if not checkpoint.exists():
            raise FileNotFoundError(f"checkpoint {checkpoint} of phase {chain!r} is not on disk: record after writing it")
        phases = self.entries()
        phases[chain] = {
            "phase": phase,
            "key": key,
            "epochs": int(epochs),
            "losses": [float(v) for v in losses],
            "checkpoint": checkpoint.resolve().relative_to(self.directory.resolve()).as_posix(),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        manifest = {"version": _VERSION, "run_key": self.run_key, "phases": phases}
        return atomic_write_text(self.path, json.dumps(manifest, indent=2))
