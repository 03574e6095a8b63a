#!/usr/bin/env bash
# Install (or remove) ESER Studio's desktop entry, icons (SVG + PNG 16-512 px) and AppStream
# metainfo for the current user, so it appears in the application menu and opens audio files.
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
hicolor="$prefix/icons/hicolor"
metainfo_dir="$prefix/metainfo"
desktop="$apps/eser-studio.desktop"
metainfo_name="org.eserstudio.ESERStudio.metainfo.xml"
# Every icon file: the SVG as "scalable" and the PNGs of packaging/make_icons.py, by size.
icon_files=("$hicolor/scalable/apps/eser-studio.svg")
for png in "$here"/icons/hicolor/*/apps/eser-studio.png; do
  icon_files+=("$hicolor/${png#"$here"/icons/hicolor/}")
done

refresh() {
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$hicolor" 2>/dev/null || true
}

if ((uninstall)); then
  rm -f "$desktop" "$metainfo_dir/$metainfo_name" "${icon_files[@]}"
  refresh
  echo "removed $desktop, $metainfo_dir/$metainfo_name and ${#icon_files[@]} icon files"
  exit 0
fi
if [[ ! -x "$exec_path" ]]; then
  echo "install_desktop_entry.sh: $exec_path is not an executable (run bash packaging/setup.sh first, or pass --exec)" >&2
  exit 1
fi
mkdir -p "$apps" "$metainfo_dir"
install -D -m 644 "$root/resources/icons/eser-studio.svg" "$hicolor/scalable/apps/eser-studio.svg"
for png in "$here"/icons/hicolor/*/apps/eser-studio.png; do
  install -D -m 644 "$png" "$hicolor/${png#"$here"/icons/hicolor/}"
done
install -m 644 "$here/$metainfo_name" "$metainfo_dir/$metainfo_name"
# Exec/TryExec point at the real program (quoted: the path may contain spaces).
sed -e "s|^Exec=esergui|Exec=\"$exec_path\"|" -e "s|^TryExec=esergui|TryExec=$exec_path|" \
  "$here/eser-studio.desktop" > "$desktop.tmp"
chmod 644 "$desktop.tmp"
mv "$desktop.tmp" "$desktop"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$desktop"
fi
refresh
echo "installed $desktop (Exec: $exec_path), $metainfo_dir/$metainfo_name and ${#icon_files[@]} icon files under $hicolor"
