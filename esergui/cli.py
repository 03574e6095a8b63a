"""The ``esergui`` command line.

``esergui analyze|batch|trends|report|predict|train|evaluate|record ...`` run headless (no Qt is imported);
``esergui [FILE ...] [--workspace DIR]`` (no sub-command) opens the desktop app.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

from esergui import __version__
from esergui.commands import COMMANDS
from esergui.errors import USER_ERRORS


def _command_modules() -> dict[str, ModuleType]:
    modules: dict[str, ModuleType] = {}
    for name in COMMANDS:
        module_name = f"esergui.commands.{name}_" if name == "import" else f"esergui.commands.{name}"  # a keyword
        modules[name] = importlib.import_module(module_name)
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="esergui",
        description="ESER Studio: who spoke, when, and with which emotion, in recorded lessons.",
        epilog="Without a sub-command, the desktop app opens (optionally on FILEs).",
    )
    parser.add_argument("--version", action="version", version=f"esergui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _command_modules().items():
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    return parser


def build_app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="esergui", description="Open the ESER Studio desktop app.")
    parser.add_argument("--version", action="version", version=f"esergui {__version__}")
    parser.add_argument("files", nargs="*", help="audio files to add to the workspace and open")
    parser.add_argument("--workspace", metavar="DIR", help="workspace folder to open (created if missing)")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo lesson, analysed")
    return parser


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> None:
    """SIGTERM (``kill``, a closing terminal, a job scheduler) stops a command as Ctrl+C does:
    work in progress is rolled back or restored, and the command exits with 130."""
    if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = args_list[0] if args_list else ""
    if first in COMMANDS or first in ("-h", "--help"):
        args = build_parser().parse_args(args_list)
        if args.command is None:
            build_parser().print_help()
            return 0
        _stop_on_sigterm()
        try:
            return int(args.run(args))
        except USER_ERRORS as exc:
            print(f"esergui {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"esergui {args.command}: interrupted", file=sys.stderr)
            return 130
    app_args = build_app_parser().parse_args(args_list)
    try:
        from esergui.app.shell.main import run_app  # Qt is imported only here
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("PySide6", "shiboken6", "pyqtgraph"):
            raise
        print(
            "esergui: the desktop app needs the GUI extra: pip install 'eser-studio[gui]' "
            "(the sub-commands, e.g. esergui analyze, run without it)",
            file=sys.stderr,
        )
        return 2

    return int(run_app(app_args))


if __name__ == "__main__":
    raise SystemExit(main())
