"""Markdown written from what members typed: their text stays text, never headings, links or HTML."""
import re

# Inline characters that open emphasis, code, links or HTML wherever they stand.
_INLINE = re.compile(r"([\\`*_\[\]<>|])")
# What makes a line a heading, quote, list, rule, fence or setext underline when it starts it.
_LEADING = re.compile(r"^([#>+\-=~])")
_ORDERED = re.compile(r"^(\d+)([.)])")


def escape_line(line: str) -> str:
    line = _INLINE.sub(r"\\\1", line.strip())  # leading spaces would make a code block
    line = _LEADING.sub(r"\\\1", line)
    return _ORDERED.sub(r"\1\\\2", line)


def text(value: str, indent: str = "") -> str:
    """A member's text as Markdown paragraphs; continuation lines get `indent` to stay in a list item."""
    lines = [escape_line(line) for line in (value or "").splitlines()]  # \r alone ends a line too
    # Two trailing spaces keep his line breaks; a blank line stays a new paragraph.
    kept = [line + "  " if line and following else line for line, following in zip(lines, [*lines[1:], ""], strict=False)]
    return f"\n{indent}".join(kept).strip()


def inline(value: str) -> str:
    """A short text on one line (a title, a name)."""
    return " ".join(escape_line(line) for line in (value or "").splitlines() if line.strip())
