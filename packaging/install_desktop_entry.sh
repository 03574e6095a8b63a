#!/usr/bin/env bash
# Install (or remove) ESER Studio's desktop entry and icon for the current user, so it appears
# in the application menu and opens audio files.
#
#   bash packaging/install_desktop_entry.sh                 # Exec = this checkout's .venv/bin/esergui
#   bash packaging/install_desktop_entry.sh --exec PATH     # e.g. dist/eser-studio/eser-studio
#   bash packaging/install_desktop_entry.sh --prefix DIR    # default ~/.local (try /usr/local as root)
#   bash packaging/install_desktop_entry.sh --uninstall
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
exec_path="$root/.venv/bin/esergui"
uninstall=0
while (($#)); do
  case "$1" in
    --exec) exec_path="$(realpath "$2")"; shift 2 ;;
    --prefix) prefix="$2/share"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install_desktop_entry.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
apps="$prefix/applications"
icons="$prefix/icons/hicolor/scalable/apps"
desktop="$apps/eser-studio.desktop"
icon="$icons/eser-studio.svg"

refresh() {
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$prefix/icons/hicolor" 2>/dev/null || true
}

if ((uninstall)); then
  rm -f "$desktop" "$icon"
  refresh
  echo "removed $desktop and $icon"
  exit 0
fi
if [[ ! -x "$exec_path" ]]; then
  echo "install_desktop_entry.sh: $exec_path is not an executable (run bash packaging/setup.sh first, or pass --exec)" >&2
  exit 1
fi
mkdir -p "$apps" "$icons"
install -m 644 "$root/resources/icons/eser-studio.svg" "$icon"
# Exec/TryExec point at the real program (quoted: the path may contain spaces).
sed -e "s|^Exec=esergui|Exec=\"$exec_path\"|" -e "s|^TryExec=esergui|TryExec=$exec_path|" \
  "$here/eser-studio.desktop" > "$desktop.tmp"
chmod 644 "$desktop.tmp"
mv "$desktop.tmp" "$desktop"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desktop"
fi
refresh
echo "installed $desktop (Exec: $exec_path) and $icon"
