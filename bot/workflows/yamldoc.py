"""A YAML document as text plus ruamel's positions, and edits that splice text.

A round-trip dump re-indents, rewrites flow collections and moves comments; a maintainer
reviewing a PR wants to see only the lines that change. So edits here compute positions from
ruamel's line/column data and splice new lines into the original text; every other byte stays.
After each edit the caller re-parses and compares the data with the intended change.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent

MAX_ALIASES = 100  # far more than any real workflow; a "billion laughs" document has thousands
MAX_NODES = 200_000

Path = tuple  # keys and indices from the root, e.g. ("jobs", "build", "steps", 3, "with")


class YamlError(ValueError):
    """Not YAML, or not YAML this app will edit."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def load(text: str, name: str = "document") -> Any:
    """Parse with positions. YAML 1.2 rules: ``on:`` stays the string "on", never ``true``."""
    try:
        aliases = sum(1 for e in _yaml().parse(io.StringIO(text)) if isinstance(e, AliasEvent))
        if aliases > MAX_ALIASES:
            raise YamlError(f"{name}: {aliases} YAML aliases; refusing to expand a possible alias bomb")
        documents = list(_yaml().load_all(io.StringIO(text)))
    except YAMLError as exc:
        first = str(exc).strip().splitlines()
        raise YamlError(f"{name} is not valid YAML: {' '.join(first[:2])}") from None
    if len(documents) != 1:
        raise YamlError(f"{name}: expected one YAML document, found {len(documents)}")
    return documents[0]


def plain(node: Any, _budget: list[int] | None = None) -> Any:
    """The data without ruamel's formatting (for comparing what an edit changed)."""
    budget = _budget if _budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError("document too large to compare")
    if isinstance(node, dict):
        return {str(k): plain(v, budget) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v, budget) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


def get(root: Any, path: Path) -> Any:
    node = root
    for part in path:
        node = node[part]
    return node


_SAFE_PLAIN = re.compile(r"^[A-Za-z0-9_$./(][A-Za-z0-9_$./@(){}\[\]|&!=<>'\" ,:+*%#-]*$")
_RESERVED = re.compile(r"^(?:true|false|yes|no|on|off|null|~|[-+]?[0-9][0-9_.eE+-]*|0o[0-7_]+|0x[0-9a-f_]+"
                       r"|[-+]?\.(?:inf|nan))$", re.IGNORECASE)


def scalar(value: Any, flow: bool = False) -> str:
    """A scalar as YAML text: plain where that reads back as the same string, else quoted.
    Inside a flow collection (``flow``), commas and brackets need quotes too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if (_SAFE_PLAIN.match(text) and text == text.strip() and ": " not in text and " #" not in text
            and not text.endswith(":")  # `k: 0:` is a mapping value where a scalar was meant
            and not _RESERVED.match(text)
            and not (flow and any(ch in text for ch in ",[]{}"))):
        return text
    if '"' in text and "'" not in text and "\n" not in text and all(map(_printable, text)):
        return f"'{text}'"  # reads better than escaped double quotes
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def _printable(ch: str) -> bool:
    code = ord(ch)
    return (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD and code != 0xFEFF
            or 0x10000 <= code <= 0x10FFFF)


def _escape(ch: str) -> str:
    """One character inside a YAML double-quoted scalar."""
    if ch in '"\\':
        return "\\" + ch
    if _printable(ch):
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


@dataclass
class Doc:
    """Text + parsed tree; edits return a new Doc."""

    name: str
    text: str
    root: Any

    @classmethod
    def parse(cls, name: str, text: str) -> "Doc":
        return cls(name, text, load(text, name))

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    # -- positions -------------------------------------------------------------------------

    def start(self, path: Path) -> tuple[int, int]:
        """(line, column), 0-based, where the entry at ``path`` begins (its key, or its item)."""
        return self._position(path, value=False)

    def value_start(self, path: Path) -> tuple[int, int]:
        """(line, column) where the entry's value begins (for a list item: the item)."""
        return self._position(path, value=True)

    def _position(self, path: Path, value: bool) -> tuple[int, int]:
        parent = get(self.root, path[:-1])
        if isinstance(parent, CommentedSeq):
            line, col = parent.lc.item(path[-1])
            # Docker's documentation style puts the item's dash alone on the line above its keys:
            # the entry starts at the dash.
            return (line, col) if value else (self._dash_line(line, col), col)
        return parent.lc.value(path[-1]) if value else parent.lc.key(path[-1])

    def _dash_line(self, line: int, col: int) -> int:
        """The line of a list item's dash: its own, or a line above holding only the dash."""
        lines = self.lines
        if lines[line].rfind("-", 0, col) >= 0 and lines[line][:col].strip(" -") == "":
            return line
        above = line - 1
        while above >= 0 and _is_filler(lines[above]) and not lines[above].strip().startswith("-"):
            above -= 1
        if above >= 0 and re.fullmatch(r"\s*-\s*(?:#.*)?", lines[above].rstrip("\r\n")):
            return above
        return line

    def dash_alone(self, path: Path) -> bool:
        """Is this list item written with its dash alone on the line above its keys?"""
        return self.start(path)[0] != self.value_start(path)[0]

    def end_line(self, path: Path) -> int:
        """The last line (0-based, inclusive) holding the entry's content."""
        lines = self.lines
        if not path:
            end = len(lines) - 1
        else:
            parent = get(self.root, path[:-1])
            last = path[-1]
            siblings = list(range(len(parent))) if isinstance(parent, CommentedSeq) else list(parent.keys())
            position = siblings.index(last)
            if position + 1 < len(siblings):
                end = self.start(path[:-1] + (siblings[position + 1],))[0] - 1
            else:
                end = self.end_line(path[:-1])
        begin = self.start(path)[0] if path else 0
        bound = end
        while end > begin and _is_filler(lines[end]):
            end -= 1
        return _block_scalar_end(lines, begin, end, bound)

    def indent_unit(self) -> int:
        """The file's indentation step, read from its mappings (2 by default)."""
        steps = []

        def walk(node: Any) -> None:
            if isinstance(node, CommentedMap):
                for key, value in node.items():
                    if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
                        child = value.lc.key(next(iter(value)))
                        if child[0] > node.lc.key(key)[0]:
                            steps.append(child[1] - node.lc.key(key)[1])
                    walk(value)
            elif isinstance(node, CommentedSeq):
                for item in node:
                    walk(item)

        walk(self.root)
        steps = [s for s in steps if s > 0]
        return min(steps, key=steps.count) if steps else 2

    # -- edits -----------------------------------------------------------------------------

    def splice(self, first: int, last: int, new_lines: list[str]) -> "Doc":
        """Replace lines first..last (0-based, inclusive; last = first - 1 inserts)."""
        lines = self.lines
        if lines and not lines[-1].endswith(("\n", "\r")) and last >= len(lines) - 1 and new_lines:
            lines[-1] += self.newline
        nl = self.newline
        text = "".join(lines[:first]) + "".join(line + nl for line in new_lines) + "".join(lines[last + 1:])
        return Doc.parse(self.name, text)

    def first_line(self, path: Path) -> int:
        """The entry's first line, counting the comment lines just above it that introduce it."""
        line, col = self.start(path)
        top = self._dash(line, col) if isinstance(get(self.root, path[:-1]), CommentedSeq) else col
        existing = self.lines
        # Not the end of the previous entry's block scalar (`# ...` lines of its script).
        parent = get(self.root, path[:-1]) if path else None
        siblings = list(range(len(parent))) if isinstance(parent, CommentedSeq) else \
            list(parent.keys()) if isinstance(parent, CommentedMap) else []
        position = siblings.index(path[-1]) if path and path[-1] in siblings else 0
        floor = self.end_line(path[:-1] + (siblings[position - 1],)) + 1 if position > 0 else 0
        while line > floor and existing[line - 1].strip().startswith("#") and _indent(existing[line - 1]) >= top:
            line -= 1
        return line

    def entry_text(self, path: Path) -> list[str]:
        """The entry's lines as written (with its introducing comments), without line ends."""
        return [t.rstrip("\r\n") for t in self.lines[self.first_line(path):self.end_line(path) + 1]]

    def insert_entry(self, path: Path, lines: list[str]) -> "Doc":
        """Insert lines before the entry at ``path``, above the comment lines that introduce it."""
        at = self.first_line(path)
        return self.splice(at, at - 1, lines)

    def insert_after(self, path: Path, lines: list[str]) -> "Doc":
        end = self.end_line(path)
        existing = self.lines
        # A line of spaces after the entry would join a block scalar that ends the new lines.
        while end + 1 < len(existing) and not existing[end + 1].strip() and existing[end + 1].strip("\r\n"):
            end += 1
        return self.splice(end + 1, end, lines)

    def remove(self, path: Path, with_comments: bool = False) -> "Doc":
        """Remove an entry; a blank line left doubled by the removal goes too."""
        first = self.first_line(path) if with_comments else self.start(path)[0]
        last = self.end_line(path)
        lines = self.lines
        if 0 < first and last + 1 < len(lines) and not lines[first - 1].strip() and not lines[last + 1].strip():
            last += 1
        return self.splice(first, last, [])

    def replace_value(self, path: Path, text: str, keep_comment: bool = True) -> "Doc":
        """Replace a scalar value (plain, quoted or block) with ``text``; a trailing comment stays
        unless it described the old value (``keep_comment=False``)."""
        key_line, _ = self.start(path)
        line, col = self.value_start(path)
        lines = self.lines
        source = lines[line].rstrip("\r\n")
        end_line = self.end_line(path)
        rest = source[col:]
        if rest[:1] in "|>":
            # A block scalar: the value is on the following lines.
            return self.splice(line, end_line, [source[:col] + text])
        if end_line > line:
            # A multi-line plain or quoted scalar.
            return self.splice(line, end_line, [source[:col] + text])
        length = _scalar_length(rest)
        tail = rest[length:] if keep_comment else ""
        return self.splice(line, line, [source[:col] + text + tail])

    def column_of_children(self, path: Path) -> int | None:
        node = get(self.root, path)
        if isinstance(node, CommentedMap) and len(node) and not node.fa.flow_style():
            return node.lc.key(next(iter(node)))[1]
        return None

    def _dash(self, line: int, col: int) -> int:
        source = self.lines[line]
        dash = source.rfind("-", 0, col)
        if dash < 0:
            raise YamlError(f"{self.name}: cannot place an edit next to line {line + 1}")
        return dash


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


_BLOCK_SCALAR = re.compile(r"^\s*(?:-\s+)*(?:[^#\s][^#]*?:\s+|-\s*)?[|>][-+0-9]*\s*(?:#.*)?$")


def _block_scalar_end(lines: list[str], begin: int, end: int, bound: int) -> int:
    """Lines that look like comments after the last content line are still content when they
    are indented as deep as the block scalar (`run: |`) that line belongs to: a script's own
    `# ...` lines at its end."""
    if end >= bound or not lines[end + 1:bound + 1] or not any(
            line.strip().startswith("#") for line in lines[end + 1:bound + 1]):
        return end
    header = next((k for k in range(end, begin - 1, -1) if _BLOCK_SCALAR.match(lines[k].rstrip("\r\n"))), None)
    if header is None:
        return end
    body = [k for k in range(header + 1, end + 1) if lines[k].strip()]
    if not body:
        return end
    # The first content line sets the block's indentation; the last one must still be inside it.
    indent = len(lines[body[0]]) - len(lines[body[0]].lstrip(" "))
    if indent <= len(lines[header]) - len(lines[header].lstrip(" ")) or any(
            len(lines[k]) - len(lines[k].lstrip(" ")) < indent for k in body):
        return end
    last = end
    for k in range(end + 1, bound + 1):
        if not lines[k].strip():
            continue
        if len(lines[k]) - len(lines[k].lstrip(" ")) < indent:
            break
        last = k
    return last


def _is_filler(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _scalar_length(rest: str) -> int:
    """Length of a one-line scalar at the start of ``rest`` (excluding a trailing comment)."""
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        i = 1
        while i < len(rest):
            if rest[i] == "\\" and quote == '"':
                i += 2
                continue
            if rest[i] == quote:
                if quote == "'" and rest[i + 1:i + 2] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        return len(rest)
    m = re.search(r"\s+#", rest)
    value = rest[:m.start()] if m else rest
    return len(value.rstrip())


def comment_of(line: str) -> str | None:
    """The comment a line ends with (``# ...``, outside quotes), or None. Inside a block scalar a
    ``#`` is text, not a comment: callers that read such lines treat the answer as a maybe."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or line[i - 1] in " :[{,-"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[i:].rstrip("\r\n").rstrip()
    return None
