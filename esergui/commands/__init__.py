"""Headless sub-commands of ``esergui``.

Each module here defines ``NAME``, ``HELP`` and ``add_arguments(parser)`` plus
``run(args) -> int`` (the exit code). Modules import heavy packages (torch, pandas) inside
``run`` so that ``esergui --help`` stays fast, and never import Qt.
"""

#: Sub-command modules, in the order ``esergui --help`` lists them.
COMMANDS = ("analyze", "batch", "trends", "report", "export", "import", "predict", "train", "evaluate", "record")
