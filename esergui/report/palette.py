"""Colours shared by the app and the reports (Qt-free; the app's Qt helpers in
``esergui/app/common/palette.py`` build on these): a colour-blind-safe palette (Okabe & Ito,
2008) for emotion labels and roles, and how "uncertain" and "no emotion yet" look.

Emotions get fixed, meaningful colours when their name is known (anger = vermillion,
sadness = blue, ...), so a retrained model with other label names still gets distinct colours.
"""

from __future__ import annotations

from collections.abc import Sequence

from esergui.lesson import UNCERTAIN

#: Okabe-Ito palette (hex), plus its grey.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}

# Name prefixes of common emotion labels -> palette entry.
_KNOWN = (
    ("ang", "vermillion"),
    ("hap", "orange"),
    ("joy", "orange"),
    ("sad", "blue"),
    ("neu", "grey"),
    ("fea", "reddish_purple"),
    ("dis", "bluish_green"),
    ("bor", "sky_blue"),
    ("sur", "yellow"),
    ("exc", "yellow"),
    ("fru", "reddish_purple"),
    ("cal", "sky_blue"),
)
_CYCLE = ("vermillion", "orange", "blue", "bluish_green", "reddish_purple", "sky_blue", "yellow", "black")

#: Colour of utterances with no emotion yet (not analysed).
UNKNOWN_COLOUR = "#BBBBBB"
#: Fill of "uncertain" utterances (below the confidence threshold), drawn hatched in
#: :data:`UNCERTAIN_HATCH` so they never pass for a pale emotion colour.
UNCERTAIN_COLOUR = "#E4E4E4"
UNCERTAIN_HATCH = "#6E6E6E"
#: The hatch pattern of "uncertain" in matplotlib figures (reports, paper figures).
UNCERTAIN_PATTERN = "////"

ROLE_COLOURS = {"teacher": "#0072B2", "student": "#E69F00"}


def label_colours(labels: Sequence[str]) -> list[str]:
    """One hex colour per label, distinct within ``labels``; known emotion names keep theirs."""
    used: set[str] = set()
    out: list[str | None] = [None] * len(labels)
    for i, name in enumerate(labels):
        key = name.strip().lower()
        if key == UNCERTAIN:
            out[i] = UNCERTAIN_COLOUR
            continue
        for prefix, entry in _KNOWN:
            if key.startswith(prefix) and entry not in used:
                out[i] = OKABE_ITO[entry]
                used.add(entry)
                break
    free = [e for e in _CYCLE if e not in used]
    for i, colour in enumerate(out):
        if colour is None:
            entry = free.pop(0) if free else _CYCLE[i % len(_CYCLE)]
            out[i] = OKABE_ITO[entry]
    return [c for c in out if c is not None]


def role_colour(role: str) -> str:
    return ROLE_COLOURS.get(role, "#666666")
