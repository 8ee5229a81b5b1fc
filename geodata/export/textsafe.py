"""Text from data or file names made safe to print on a terminal.

An upload named ``"\\x1b]0;PWNED\\x07\\x1b[31m….csv"`` would retitle the operator's terminal and
colour everything after it red if printed raw; bidirectional overrides (U+202E) can make a name read
backwards. Names and cells are stored exactly as given (provenance stays exact); every command
line prints them through :func:`printable`, which shows such characters as visible escapes.
"""

from __future__ import annotations

import re

# C0 and C1 controls (tab and newline included: one record per line), DEL, line/paragraph
# separators, and the invisible bidirectional marks and overrides.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """``str(value)`` with every control character shown as an escape (``\\x1b``, ``\\u202e``).

    Args:
        value: any value from data, a file name, a path or an error message.
    Returns:
        Text safe to write to a terminal; ordinary letters (ë, č, Ђ) are unchanged.
    """
    return _UNSAFE.sub(_escape, str(value))
