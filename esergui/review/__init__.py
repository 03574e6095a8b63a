"""Qt-free logic behind the review views: :class:`LessonData` (a lesson as columns), the adapters
that build it from workspace records, the jobs the app runs off the GUI thread (analysis,
decode, envelope, device probe) and snapping of edited edges to quiet points."""
