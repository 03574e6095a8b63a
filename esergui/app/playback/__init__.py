"""Playing a lesson's audio: the ``Player`` (a sounddevice output stream fed from a
``LockedSource``) and the window's playback controller."""
