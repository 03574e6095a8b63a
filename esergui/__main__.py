"""``python -m esergui`` behaves exactly like the ``esergui`` command."""

from esergui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
