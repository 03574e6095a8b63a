"""ESER Studio: classroom discourse analysis with speech emotion recognition.

Layers (see ``docs/ARCHITECTURE.md``):

* ``model`` (top-level package): ESERNet, features, training, evaluation, inference. No Qt.
* ``esergui`` Qt-free modules: audio decoding, VAD segmentation, speaker attribution,
  lesson data, workspace store, summaries, exports, the analysis pipeline and the CLI.
* ``esergui.app``: the only place that imports Qt (windows, widgets, workers, wizards).
"""

__version__ = "0.1.0"
