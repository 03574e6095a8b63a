"""Speaker attribution (Qt-free): who speaks when, and which voice is the teacher's.

Public API::

    SpeakerSettings, SpeakerTurn
    embed_voice(waveform, sr=16000) -> (256,) float32
    attribute_speakers(source, segments, settings=None, teacher_embedding=None,
                       progress=None, cancel=None) -> list[SpeakerTurn]

Method and figures: ``docs/SPEAKERS.md``.
"""

from esergui.lesson import STUDENT, TEACHER
from esergui.speakers.attribute import attribute_speakers, embed_voice
from esergui.speakers.settings import SpeakerSettings, SpeakerTurn

__all__ = ["SpeakerSettings", "SpeakerTurn", "attribute_speakers", "embed_voice", "TEACHER", "STUDENT"]
