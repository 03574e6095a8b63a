"""ESERNet: speech emotion recognition for classroom audio (Qt-free; torch, torchaudio, numpy).

Long-running functions take ``progress(fraction, message)`` and a duck-typed ``cancel`` object
with ``raise_if_cancelled()`` (``esergui.progress.CancelToken`` fits) so callers can show
progress and stop them; this package never imports ``esergui`` or Qt.
"""
