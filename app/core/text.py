"""The one rule for text coming in from outside (GraphQL, CSV rows, webhook bodies).

Postgres refuses NUL in text (and lone surrogates, which are no characters at all), and
other C0 control characters are never meant in a name or a note (they come from binary
pasted by mistake, or from someone probing). Tab, newline and carriage return are kept.
Text is NFC-normalised, so the same name typed on two keyboards is stored, compared and
searched as the same string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

# C0 controls but tab, newline and CR; DEL; and lone surrogates (JSON can carry "\ud800",
# which no UTF-8 column can store: the driver's error would quote the text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def control_character(value: str) -> str | None:
    """The first forbidden control character in `value`, as `U+0000`, or None."""
    found = _CONTROL.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def normalise(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def bad_text_paths(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, character) for every string inside a JSON-like value that carries a forbidden
    control character; keys are checked as well as values. Paths read like GraphQL input
    paths: `input.items[3].note`."""
    if isinstance(value, str):
        if (char := control_character(value)) is not None:
            yield path, char
    elif isinstance(value, Mapping):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (char := control_character(key)) is not None:
                yield child, char
            yield from bad_text_paths(item, child)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from bad_text_paths(item, f"{path}[{i}]")
