"""Recording a lesson in the app: the Record panel (device choice, level meter, live waveform)
and the dialog that offers to keep recordings a crash left unfinished."""
