"""Output file names: unique and readable for any lesson or audio file name.

:func:`output_stem` turns a name (a lesson name, an audio file's stem) into the stem of the
files an export writes (``<stem>_utterances.csv``, ``<stem>.eaf``...):

* letters and digits of every script are kept (``数学``, ``Ünit 1`` -> ``数学``, ``Ünit_1``),
  after Unicode NFC normalisation (a name typed on macOS and on Linux gives the same stem);
* path separators, control and format characters, characters Windows forbids in names
  (``< > : " / \\ | ? *``) and other symbols become ``_``; runs of ``_`` and white space
  collapse to one ``_``; leading/trailing ``.``, ``-``, ``_`` go (no hidden files, nothing
  that looks like a command-line option); Windows device names (``CON``, ``NUL``...) get a ``_``;
* a stem is at most :data:`MAX_STEM_BYTES` bytes of UTF-8: a longer one is cut at a character
  boundary and ends in ``~`` plus 8 hex digits of the SHA-256 of the full name, so two long
  names that share a beginning stay apart and every written name fits the usual 255-byte limit
  with room for the longest suffix (``_utterances.csv``);
* a stem already ``taken`` (compared case-insensitively, since macOS and Windows folders are)
  gets ``-`` plus 6 hex digits of the name's hash, then a counter: two inputs never write the
  same file, and the same name always gets the same stem.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection

#: Longest stem in bytes (UTF-8); a stem plus ``_utterances.csv`` then stays far below 255.
MAX_STEM_BYTES = 120
#: Stem for a name with nothing readable left.
FALLBACK = "lesson"

_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def _keep(ch: str) -> bool:
    if ch in "._-":
        return True
    cat = unicodedata.category(ch)
    return cat[0] in "LN" or cat in ("Mn", "Mc")  # letters, digits, combining marks


def _digest(name: str, n: int) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:n]


def _cut(text: str, max_bytes: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", "ignore")


def readable_stem(name: str) -> str:
    """``name`` made safe for a file name (module doc), without the uniqueness step."""
    text = unicodedata.normalize("NFC", str(name))
    text = "".join(ch if _keep(ch) else "_" for ch in text)
    text = re.sub(r"_+", "_", text).strip("._-")
    if not text:
        text = FALLBACK
    if text.split(".")[0].upper() in _WINDOWS_DEVICES:
        text += "_"
    if len(text.encode("utf-8")) > MAX_STEM_BYTES:
        text = _cut(text, MAX_STEM_BYTES - 9).rstrip("._-") + "~" + _digest(name, 8)
    return text


def output_stem(name: str, taken: Collection[str] = ()) -> str:
    """A readable stem for ``name`` that is not in ``taken`` (module doc). The caller adds the
    result to its ``taken`` set when it uses it."""
    stem = readable_stem(name)
    used = {t.casefold() for t in taken}
    if stem.casefold() not in used:
        return stem
    base = _cut(stem, MAX_STEM_BYTES - 7 - 4).rstrip("._-") or FALLBACK
    candidate = f"{base}-{_digest(name, 6)}"
    k = 2
    while candidate.casefold() in used:
        candidate = f"{base}-{_digest(name, 6)}_{k}"
        k += 1
    return candidate
