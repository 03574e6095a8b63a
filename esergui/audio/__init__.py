"""Audio input: decode any common file to mono float32 at 16 kHz, streamed in blocks.

* :func:`probe` -> :class:`AudioInfo` (format, codec, rate, channels, duration, bit depth)
* :func:`iter_blocks` -> fixed-size mono float32 blocks, bounded memory, any file length
* :func:`load_audio` -> the whole file as one array (short files: clips, tests)
* :func:`decode_to_cache` -> a 16 kHz mono PCM-16 WAV cache and an :class:`AudioSource` over it
* :class:`AudioSource` (random access by sample range), :class:`ArrayAudio`, :class:`WavAudio`

wav/flac/ogg (Vorbis, Opus) and other libsndfile formats are read with soundfile; mp3,
m4a/aac and anything else FFmpeg reads (including the audio track of a video) with PyAV.
Channels are averaged; resampling is soxr's band-limited "HQ" filter. Every problem a user
can cause is raised as :class:`esergui.errors.AudioError` with a one-line message.
Qt-free.
"""

from esergui.audio.decode import SAMPLE_RATE, iter_blocks, load_audio
from esergui.audio.info import AudioInfo, probe
from esergui.audio.source import ArrayAudio, AudioSource, WavAudio, as_source, decode_to_cache

__all__ = [
    "SAMPLE_RATE",
    "AudioInfo",
    "probe",
    "iter_blocks",
    "load_audio",
    "AudioSource",
    "ArrayAudio",
    "WavAudio",
    "as_source",
    "decode_to_cache",
]
