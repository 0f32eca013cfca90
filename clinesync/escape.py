"""Text from files or live, made safe to show: nothing in a name, id or value can hide or forge output lines.

Control and format characters (line breaks, terminal escape codes, bidirectional overrides, zero-width
characters) are shown as escapes; in markdown, text goes in code spans, where nothing renders as markup.
"""

from __future__ import annotations

import re


def visible(text: str) -> str:
    """`text` with every character that is not printable shown as an escape (`\\x1b`, `\\u202e`)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def code_span(text: str) -> str:
    """Markdown code span holding `text` literally: fenced by more backticks than any run inside it."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or not text.strip() else text
    return f"{fence}{padded}{fence}"
