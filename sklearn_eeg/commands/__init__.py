"""The command-line programs, one module per command, each with ``main(argv=None) -> int``.

Installed as console scripts ``sklearn-eeg-<command>``, dashes for the module's underscores
(``sklearn-eeg-loso``, ``sklearn-eeg-train-deep``, ... see ``setup.cfg``); ``python -m sklearn_eeg.commands.<command>`` and, in a checkout,
``python pipelines/<command>.py`` run the same code. Shared options: :mod:`sklearn_eeg.commands.options`.
"""
