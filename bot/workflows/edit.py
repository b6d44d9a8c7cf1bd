"""Workflow edits that keep everything else byte-identical, each checked by re-parsing.

Every edit is a text splice (see ``yamldoc``) plus the change it is meant to make to the
data. ``apply`` runs the splices, re-parses, and compares the new data with the old data
changed as intended: anything else that moved means the edit is wrong, and it fails closed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from ..versions import pin
from .model import Workflow
from .yamldoc import Doc, YamlError, get, plain, scalar

class EditError(ValueError):
    """The workflow cannot be edited safely in this shape; the message says why."""


def uses(workflow: Workflow, action: str) -> tuple[str, str]:
    """The ``uses:`` value and its version comment for an action the edits add: always the
    release's commit SHA (organisations can require SHA pinning, and a tag then fails the run),
    whatever the file's own style; existing steps keep their references."""
    release = pin(action)
    return release.uses, release.version


Field = tuple[str, Any]  # a key and a scalar, or a key and a list of Fields (a nested mapping)


@dataclass
class Edit:
    describe: str
    splice: Callable[[Doc], Doc]
    expect: Callable[[Any], None]  # applies the same change to the plain data


def apply(workflow: Workflow, edits: list[Edit]) -> Workflow:
    doc = workflow.doc
    expected = plain(doc.root)
    for edit in edits:
        try:
            doc = edit.splice(doc)
        except (YamlError, KeyError, IndexError, ValueError) as exc:
            raise EditError(f"{workflow.path}: cannot {edit.describe}: {exc}") from None
        edit.expect(expected)
    if plain(doc.root) != expected:
        raise EditError(f"{workflow.path}: the edit changed more than intended; nothing was written")
    return Workflow.parse(workflow.path, doc.text)


# -- steps -------------------------------------------------------------------------------


def _step_lines(doc: Doc, job_id: str, reference: int, fields: list[Field], comment_for: dict[str, str]) -> list[str]:
    steps = get(doc.root, ("jobs", job_id, "steps"))
    if not isinstance(steps, CommentedSeq) or steps.fa.flow_style():
        raise EditError("its steps are not a block list")
    path = ("jobs", job_id, "steps", reference)
    line, col = doc.start(path)
    dash = doc.lines[line].rfind("-", 0, col)
    if dash < 0:
        raise EditError("a step whose dash is not on the line of its first key or alone above it")
    lines = item_lines(_as_data(fields), dash, doc.indent_unit(), dash_offset(doc), content=col,
                       dash_alone=doc.dash_alone(path))
    for key, comment in comment_for.items():
        lines = [f"{text} # {comment}" if text[col:].startswith(f"{key}: ") else text for text in lines]
    return lines


def _as_data(fields: list[Field]) -> dict:
    return {k: (_as_data(v) if isinstance(v, list) else v) for k, v in fields}


def insert_step(workflow: Workflow, job_id: str, before: int | None, fields: list[Field],
                comment_for: dict[str, str] | None = None) -> Edit:
    """A new step before step ``before`` (or after the last step when None)."""
    comment_for = comment_for or {}

    def splice(doc: Doc) -> Doc:
        steps = get(doc.root, ("jobs", job_id, "steps"))
        reference = before if before is not None else len(steps) - 1
        lines = _step_lines(doc, job_id, reference, fields, comment_for)
        if before is None:
            return doc.insert_after(("jobs", job_id, "steps", len(steps) - 1), lines)
        return doc.insert_entry(("jobs", job_id, "steps", before), lines)

    def expect(data: Any) -> None:
        steps = data["jobs"][job_id]["steps"]
        steps.insert(len(steps) if before is None else before, _as_data(fields))

    name = dict(fields).get("name") or dict(fields).get("uses")
    return Edit(f"add the step `{name}` to job `{job_id}`", splice, expect)


# -- mapping entries ---------------------------------------------------------------------


def _format_like(old: Any, value: Any, flow: bool = False) -> str:
    if isinstance(old, DoubleQuotedScalarString):
        return json.dumps(str(value))
    if isinstance(old, SingleQuotedScalarString):
        return "'" + str(value).replace("'", "''") + "'"
    return scalar(value, flow)


def _flow_line(doc: Doc, path: tuple, mapping: CommentedMap, new_items: list[tuple[str, Any]]) -> Doc:
    line, col = doc.value_start(path)
    if doc.end_line(path) != line:
        raise EditError("a flow mapping over several lines")
    source = doc.lines[line].rstrip("\r\n")
    close = _flow_close(source, col)
    inner = ", ".join(f"{k}: {v}" for k, v in new_items)
    return doc.splice(line, line, [source[:col] + ("{ " + inner + " }" if inner else "{}") + source[close + 1:]])


def _flow_lines_edit(doc: Doc, path: tuple, mapping: CommentedMap, key: str, text: str | None) -> Doc:
    """Edit one entry of a flow mapping written over several lines, in place, so that its layout,
    trailing commas and comments stay: ``text`` is the entry's new value (None removes the entry).
    An entry that shares its line with another, or a new one with no line of its own to follow,
    cannot be placed safely and is an error (the remedy declines)."""
    if key in mapping:
        line, col = doc.value_start(path + (key,))
        old = _flow_text(doc, path + (key,), mapping[key])
        source = doc.lines[line].rstrip("\r\n")
        if text is not None:
            return doc.splice(line, line, [source[:col] + text + source[col + len(old):]])
        key_line, key_col = doc.start(path + (key,))
        if key_line != line or source[:key_col].strip() or source[col + len(old):].strip() not in ("", ","):
            raise EditError("an entry that shares its line in a flow mapping over several lines")
        return doc.splice(line, line, [])
    if text is None:
        return doc
    last = list(mapping)[-1]
    line, col = doc.value_start(path + (last,))
    old = _flow_text(doc, path + (last,), mapping[last])
    source = doc.lines[line].rstrip("\r\n")
    rest = source[col + len(old):]
    tail = re.fullmatch(r"\s*(,?)\s*(#.*)?", rest)  # a comma, a comment: the entry is alone on its line
    if not tail:
        raise EditError("a flow mapping over several lines whose last entry shares its line")
    indent = doc.start(path + (last,))[1]
    entry = " " * indent + f"{key}: {text}" + tail.group(1)
    ended = source if tail.group(1) else source[:col + len(old)] + "," + rest
    return doc.splice(line, line, [ended, entry])


def _flow_close(source: str, open_col: int) -> int:
    depth, quote = 0, None
    for i in range(open_col, len(source)):
        ch = source[i]
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i
    raise EditError("an unterminated flow mapping")


def set_key(path: tuple, key: str, value: Any, after: str | None = None, describe: str | None = None,
            keep_comment: bool = True) -> Edit:
    """Set ``key`` in the mapping at ``path`` (created when missing), keeping its style.

    A new key goes after ``after`` when that key exists, else at the end of the mapping."""

    def splice(doc: Doc) -> Doc:
        parent = get(doc.root, path[:-1])
        mapping = parent.get(path[-1]) if isinstance(parent, CommentedMap) else parent[path[-1]]
        if mapping is None:
            # No mapping yet (e.g. a step without `with:`): add it after the last entry.
            owner = get(doc.root, path[:-1])
            last_key = list(owner.keys())[-1]
            indent = owner.lc.key(last_key)[1]
            unit = doc.indent_unit()
            if path[-1] in owner:  # present but empty: "with:" with nothing under it
                return doc.splice(*(_line_range(doc, path)), [" " * indent + f"{path[-1]}:",
                                                             " " * (indent + unit) + f"{key}: {scalar(value)}"])
            return doc.insert_after(path[:-1] + (last_key,), [
                " " * indent + f"{path[-1]}:", " " * (indent + unit) + f"{key}: {scalar(value)}"])
        if not isinstance(mapping, CommentedMap):
            raise EditError(f"`{path[-1]}` is not a mapping")
        if mapping.fa.flow_style() and doc.end_line(path) != doc.value_start(path)[0]:
            text = _format_like(mapping[key], value, flow=True) if key in mapping else scalar(value, flow=True)
            return _flow_lines_edit(doc, path, mapping, key, text)
        if mapping.fa.flow_style():
            items = [(k, _flow_text(doc, path + (k,), mapping[k])) for k in mapping]
            if key in mapping:
                items = [(k, _format_like(mapping[k], value, flow=True) if k == key else v) for k, v in items]
            else:
                items.append((key, scalar(value, flow=True)))
            return _flow_line(doc, path, mapping, items)
        if key in mapping:
            if isinstance(mapping[key], (CommentedMap, CommentedSeq)):
                raise EditError(f"`{key}` is not a single value")
            return doc.replace_value(path + (key,), _format_like(mapping[key], value), keep_comment)
        indent = mapping.lc.key(next(iter(mapping)))[1]
        anchor = after if after in mapping else list(mapping.keys())[-1]
        return doc.insert_after(path + (anchor,), [" " * indent + f"{key}: {scalar(value)}"])

    def expect(data: Any) -> None:
        owner = data
        for part in path[:-1]:
            owner = owner[part]
        if isinstance(owner, dict) and owner.get(path[-1]) is None:
            owner[path[-1]] = {}
        target = owner[path[-1]]
        if key in target or after not in target:
            target[key] = value
        else:
            # keep the data's key order as the text will have it
            items = list(target.items())
            position = [k for k, _ in items].index(after) + 1
            items.insert(position, (key, value))
            target.clear()
            target.update(items)
        _normalise(target, key)

    return Edit(describe or f"set `{key}` under `{'.'.join(map(str, path))}`", splice, expect)


def _normalise(target: dict, key: str) -> None:
    """Booleans and numbers read back as such; keep the expected data comparable."""
    value = target[key]
    if isinstance(value, str) and scalar(value) == value:
        lowered = value.lower()
        if lowered in ("true", "false"):
            target[key] = lowered == "true"


def _line_range(doc: Doc, path: tuple) -> tuple[int, int]:
    first = doc.start(path)[0]
    return first, doc.end_line(path)


def _flow_text(doc: Doc, path: tuple, value: Any) -> str:
    """The text of a scalar inside a one-line flow mapping, as written."""
    if isinstance(value, (CommentedMap, CommentedSeq)):
        raise EditError("a nested collection inside a flow mapping")
    line, col = doc.value_start(path)
    source = doc.lines[line]
    rest = source[col:]
    if rest[:1] in "'\"":
        from .yamldoc import _scalar_length
        return rest[:_scalar_length(rest)]
    m = re.match(r"[^,}\]]*", rest)
    return m.group(0).strip()


def remove_key(path: tuple, key: str) -> Edit:
    def splice(doc: Doc) -> Doc:
        mapping = get(doc.root, path)
        if mapping.fa.flow_style() and len(mapping) > 1 and doc.end_line(path) != doc.value_start(path)[0]:
            return _flow_lines_edit(doc, path, mapping, key, None)
        if mapping.fa.flow_style():
            items = [(k, _flow_text(doc, path + (k,), mapping[k])) for k in mapping if k != key]
            if not items:
                return _drop_mapping(doc, path)
            return _flow_line(doc, path, mapping, items)
        if len(mapping) == 1:
            return _drop_mapping(doc, path)
        return doc.remove(path + (key,))

    def expect(data: Any) -> None:
        owner = data
        for part in path:
            owner = owner[part]
        del owner[key]
        if not owner:
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]

    return Edit(f"remove `{key}` from `{'.'.join(map(str, path))}`", splice, expect)


def _drop_mapping(doc: Doc, path: tuple) -> Doc:
    first = doc.start(path)[0]
    return doc.splice(first, doc.end_line(path), [])


def set_value(path: tuple, value: Any, describe: str, keep_comment: bool = True) -> Edit:
    """Replace a scalar in place (keeping its quoting style where it can)."""

    def splice(doc: Doc) -> Doc:
        old = get(doc.root, path)
        parent = get(doc.root, path[:-1])
        if isinstance(parent, CommentedMap) and parent.fa.flow_style() and (
                doc.end_line(path[:-1]) != doc.value_start(path[:-1])[0]):
            return _flow_lines_edit(doc, path[:-1], parent, path[-1], _format_like(old, value, flow=True))
        if isinstance(parent, CommentedMap) and parent.fa.flow_style():
            items = [(k, _format_like(old, value, flow=True) if k == path[-1]
                      else _flow_text(doc, path[:-1] + (k,), parent[k])) for k in parent]
            return _flow_line(doc, path[:-1], parent, items)
        return doc.replace_value(path, _format_like(old, value), keep_comment)

    def expect(data: Any) -> None:
        owner = data
        for part in path[:-1]:
            owner = owner[part]
        owner[path[-1]] = value

    return Edit(describe, splice, expect)


# -- blocks --------------------------------------------------------------------------------


def block_lines(key: str, value: Any, indent: int, unit: int, dash: int) -> list[str]:
    """``key: value`` as block YAML at ``indent``: mappings nest by ``unit``, list items put
    their dash ``dash`` columns in from the key (the file's style), multi-line strings are
    literal blocks."""
    pad = " " * indent
    if isinstance(value, dict):
        out = [f"{pad}{key}:"]
        for k, v in value.items():
            out += block_lines(k, v, indent + unit, unit, dash)
        return out
    if isinstance(value, list):
        out = [f"{pad}{key}:"]
        for item in value:
            out += item_lines(item, indent + dash, unit, dash)
        return out
    if isinstance(value, str) and "\n" in value:
        body = value[:-1] if value.endswith("\n") else value
        indicator = "|" if value.endswith("\n") else "|-"
        return [f"{pad}{key}: {indicator}"] + [(" " * (indent + unit) + line).rstrip() for line in body.split("\n")]
    return [f"{pad}{key}: {scalar(value)}"]


def item_lines(item: Any, dash_col: int, unit: int, dash: int, content: int | None = None,
               dash_alone: bool = False) -> list[str]:
    """A list item: its dash at ``dash_col``, its keys at ``content`` (default: after "- ");
    ``dash_alone`` writes the dash on a line of its own, as Docker's documentation does."""
    content = dash_col + 2 if content is None else content
    prefix = " " * dash_col + "-" + " " * (content - dash_col - 1)
    if isinstance(item, dict) and dash_alone:
        out = [" " * dash_col + "-"]
        for k, v in item.items():
            out += block_lines(k, v, content, unit, dash)
        return out
    if isinstance(item, dict):
        out: list[str] = []
        for i, (k, v) in enumerate(item.items()):
            lines = block_lines(k, v, content, unit, dash)
            if i == 0:
                lines[0] = prefix + lines[0][content:]
            out += lines
        return out
    return [prefix + scalar(item)]


def dash_offset(doc: Doc) -> int:
    """How far list dashes sit in from their key in this file (0 or the indentation unit)."""
    lines = doc.lines
    for i, line in enumerate(lines[:-1]):
        stripped = line.strip()
        if stripped.endswith(":") and not stripped.startswith(("#", "-")):
            nxt = lines[i + 1]
            if nxt.lstrip().startswith("- "):
                return max(0, len(nxt) - len(nxt.lstrip()) - (len(line) - len(line.lstrip())))
    return doc.indent_unit()


def insert_block_after(anchor: tuple, lines_for: Callable[[Doc], list[str]], expect: Callable[[Any], None],
                       describe: str) -> Edit:
    """Insert generated lines after the entry at ``anchor``."""
    return Edit(describe, lambda doc: doc.insert_after(anchor, lines_for(doc)), expect)


def replace_entry(path: tuple, lines_for: Callable[[Doc], list[str]], expect: Callable[[Any], None],
                  describe: str) -> Edit:
    """Replace the whole entry at ``path`` (key and value) with generated lines."""

    def splice(doc: Doc) -> Doc:
        first = doc.start(path)[0]
        return doc.splice(first, doc.end_line(path), lines_for(doc))

    return Edit(describe, splice, expect)


def remove_entry(path: tuple, expect: Callable[[Any], None], describe: str) -> Edit:
    """Remove the entry at ``path`` with the comment lines just above it."""
    return Edit(describe, lambda doc: doc.remove(path, with_comments=True), expect)
