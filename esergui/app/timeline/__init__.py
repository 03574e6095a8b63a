"""The lesson views: the overview timeline, the detail view (waveform, spectrogram, lanes),
the utterance blocks, the time axis and the utterance table."""
