"""The ECG classifier: the project's skorch CNN estimator with per-lead statistics from its training rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from sklearn_eeg.models.estimators import SpectrogramCNNClassifier
from sklearn_eeg.models.nn.ecg_net import ECGNet

__all__ = ["ECGNetClassifier", "lead_statistics"]


def lead_statistics(dataset: Dataset, *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Per-lead mean and standard deviation over every record and sample of ``dataset``, streamed.

    Parameters
    ----------
    dataset : torch Dataset
        Items ``(x (n_leads, n_times), y)``; read ``batch_size`` records at a time.
    batch_size : int, default=256

    Returns
    -------
    mean, scale : ndarray of shape (n_leads,), float64
        ``scale`` is the standard deviation, 1 where a lead is constant.

    Examples
    --------
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> x = torch.arange(12.).reshape(2, 2, 3)
    >>> lead_statistics(TensorDataset(x, torch.zeros(2)))[0].tolist()
    [4.0, 7.0]
    """
    total = total_sq = None
    count = 0
    for x, _ in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        x = x.to(torch.float64)
        batch_sum, batch_sq = x.sum(dim=(0, 2)), (x * x).sum(dim=(0, 2))
        total = batch_sum if total is None else total + batch_sum
        total_sq = batch_sq if total_sq is None else total_sq + batch_sq
        count += x.shape[0] * x.shape[2]
    if total is None:
        raise ValueError("no training records to compute lead statistics from")
    mean = (total / count).numpy()
    std = np.sqrt(np.maximum((total_sq / count).numpy() - mean**2, 0.0))
    return mean, np.where(std > 0, std, 1.0)


class ECGNetClassifier(SpectrogramCNNClassifier):
    """Record classifier on ``(n_records, n_leads, n_times)`` ECG with per-lead standardisation inside.

    Everything of :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier` (``pos_weight``,
    early stopping, best-epoch restore, checkpoints, ``valid_scoring``, seeding), with the
    :class:`~sklearn_eeg.models.nn.ecg_net.ECGNet` module by default. The per-lead mean and scale are
    computed in every fit from the *training* part of the split only (after ``train_split`` has set
    the validation records aside) and written into the module, so validation and test records are
    standardised with training statistics and never contribute to them.

    Parameters
    ----------
    module : type, default=ECGNet
        A module with ``set_lead_statistics(mean, scale)``.
    **kwargs
        The parameters of :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier`.

    Attributes
    ----------
    lead_mean_, lead_scale_ : ndarray of shape (n_leads,)
        Statistics of the training records of the last fit.
    n_channels_, n_times_, pos_weight_, module_, history_
        As in :class:`~sklearn_eeg.models.estimators.SpectrogramCNNClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 8, 256)).astype(np.float32); y = np.r_[np.zeros(20), np.ones(20)]
    >>> clf = ECGNetClassifier(max_epochs=1, train_split=None, random_state=0).fit(X, y)
    >>> clf.lead_mean_.shape, clf.predict_proba(X).shape
    ((8,), (40, 2))
    """

    def __init__(self, module: type[torch.nn.Module] = ECGNet, **kwargs: Any) -> None:
        super().__init__(module, **kwargs)

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any) -> tuple[Dataset, Dataset | None]:
        """The train/validation split; sets the module's lead statistics from the training part."""
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        self.lead_mean_, self.lead_scale_ = lead_statistics(dataset_train, batch_size=max(self.batch_size, 256))
        self.module_.set_lead_statistics(self.lead_mean_, self.lead_scale_)
        return dataset_train, dataset_valid
