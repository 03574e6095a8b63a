#!/usr/bin/env bash
# A private PulseAudio server for the recording tests: one null sink ("eser_null") whose monitor
# is the default source, so whatever is played into the sink (paplay, sox) can be recorded back
# through PortAudio -> ALSA "pulse" plugin -> PulseAudio. Works as a normal user and as root.
#
#   tests/sound_server.sh start   start it (idempotent: a running one is reused); prints the
#                                 `export PULSE_SERVER=...` line clients need
#   tests/sound_server.sh stop    stop the server if the same caller (parent process) started it;
#                                 a server that `start` found running is left alone
#   tests/sound_server.sh stop --force   stop it whoever started it
#   tests/sound_server.sh env     print the export line (exit 1 when the server is not running)
#   tests/sound_server.sh status  exit 0 when it answers
#
# Everything lives in $ESER_SOUND_DIR (default /tmp/eser-sound-$UID): the socket `native`, the
# pid file, the log. Another ESER_SOUND_DIR gives an independent second server.
set -uo pipefail

DIR="${ESER_SOUND_DIR:-/tmp/eser-sound-$(id -u)}"
SOCKET="$DIR/native"
PIDFILE="$DIR/runtime/pid"
OWNER="$DIR/owner"  # the parent pid of the `start` that started the server
SINK="eser_null"
export PULSE_RUNTIME_PATH="$DIR/runtime" PULSE_STATE_PATH="$DIR/state"
export PULSE_SERVER="unix:$SOCKET"

alive() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && timeout 5 pactl info >/dev/null 2>&1
}

case "${1:-}" in
  start)
    if alive; then
      echo "export PULSE_SERVER=$PULSE_SERVER"
      exit 0
    fi
    for tool in pulseaudio pactl; do
      if ! command -v "$tool" >/dev/null; then
        echo "sound_server.sh: $tool is not installed (bash packaging/setup.sh --dev installs pulseaudio)" >&2
        exit 1
      fi
    done
    mkdir -p "$DIR/runtime" "$DIR/state"
    echo "$PPID" >"$OWNER"
    chmod 700 "$DIR/runtime" "$DIR/state"
    rm -f "$SOCKET"
    # -n: no default.pa (no hardware, no D-Bus, no X11 modules); as root PulseAudio warns that it
    # is "not intended to be run as root" but runs; --system is not needed. --disable-shm: audio
    # goes over the socket; with shared memory, killing the server mid-stream (the "device
    # vanishes" test) can deadlock libpulse inside the client's PortAudio thread.
    pulseaudio --daemonize=yes -n --exit-idle-time=-1 --use-pid-file=yes --realtime=no --disable-shm=yes \
      --high-priority=no --disallow-exit=no --log-target="file:$DIR/log" \
      --load="module-native-protocol-unix socket=$SOCKET auth-anonymous=1" \
      --load="module-null-sink sink_name=$SINK sink_properties=device.description=ESER_null_sink" \
      || { echo "sound_server.sh: pulseaudio did not start; see $DIR/log" >&2; exit 1; }
    for _ in $(seq 50); do
      timeout 5 pactl info >/dev/null 2>&1 && break
      sleep 0.1
    done
    if ! pactl set-default-sink "$SINK" || ! pactl set-default-source "$SINK.monitor"; then
      echo "sound_server.sh: the server does not answer; see $DIR/log" >&2
      exit 1
    fi
    echo "export PULSE_SERVER=$PULSE_SERVER"
    ;;
  stop)
    if [[ "${2:-}" != "--force" && "$(cat "$OWNER" 2>/dev/null)" != "$PPID" ]]; then
      exit 0  # not ours to stop: another caller started it
    fi
    if [[ -f "$PIDFILE" ]]; then
      pid="$(cat "$PIDFILE")"
      # only the pulseaudio whose pid file lives in our private folder
      if kill -0 "$pid" 2>/dev/null && grep -q pulseaudio "/proc/$pid/comm" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      rm -f "$PIDFILE" "$SOCKET"
    fi
    rm -f "$OWNER"
    ;;
  env)
    alive || exit 1
    echo "export PULSE_SERVER=$PULSE_SERVER"
    ;;
  status)
    alive
    ;;
  *)
    echo "usage: $0 start|stop|env|status" >&2
    exit 2
    ;;
esac
