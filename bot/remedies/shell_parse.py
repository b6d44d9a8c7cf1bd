"""A `run:` script that builds with ``docker buildx build``, read with a real Bash grammar.

The per-platform restructure of a shell build (restructure_shell) rewrites the build command
and leaves every other byte of the script as written, so it needs each word's exact place in
the script (line continuations, quoting, ``${VAR}`` expansions) and a sure answer to "what does
this script run": tree-sitter's Bash grammar gives both, where splitting lines by hand cannot
tell a quoted newline or a `#` inside a string from a command boundary.

A script is split only when every top-level statement is one of the shapes whose effect is
known: a comment, an assignment or `export`, `set`, `cd`, `echo`/`printf` (to the terminal or
to `$GITHUB_OUTPUT`, `$GITHUB_ENV`, `$GITHUB_STEP_SUMMARY`), builder set-up (`docker buildx
create`, `use`, `inspect`, `ls`, `version`) before the build, and the build itself. Anything
else (a conditional, a loop, a pipeline, a command whose effect on the image is not known, a
command after the build that may use the pushed image) is declined, naming it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from .base import Decline

_PARSER = Parser(Language(tree_sitter_bash.language()))
_EXPR = re.compile(rb"\$\{\{.*?\}\}", re.DOTALL)
# Options that take a value (as the next word or after `=`); the rest of buildx's are flags.
VALUED = {"--platform", "--tag", "-t", "--file", "-f", "--build-arg", "--output", "-o", "--cache-from",
          "--cache-to", "--target", "--label", "--secret", "--builder", "--metadata-file", "--iidfile",
          "--progress", "--ssh", "--build-context", "--attest", "--sbom", "--provenance", "--network",
          "--annotation", "--shm-size", "--ulimit", "--add-host", "--allow", "--call", "--cgroup-parent"}
PLAIN_COMMANDS = {"set", "cd", "echo", "printf", "true", ":"}
BUILDER_SETUP = {"create", "use", "inspect", "ls", "version"}
# Files a GitHub Actions step may append to: step outputs, the job's env, the run summary.
RUNNER_FILES = re.compile(r'^"?\$\{?(GITHUB_OUTPUT|GITHUB_ENV|GITHUB_STEP_SUMMARY)\}?"?$')


@dataclass
class Word:
    raw: str  # as written (expressions and quotes included)
    start: int  # byte offsets in the script
    end: int
    value: str  # the word as the shell passes it when it is literal, else ``raw``
    literal: bool  # no expansion, substitution or expression in it
    expands: bool  # a shell expansion or substitution (not a `${{ }}` expression) in it
    substitutes: bool  # a command substitution in it


@dataclass
class Option:
    name: str
    value: Word | None
    start: int  # byte range of the option and its value
    end: int


@dataclass
class BuildCommand:
    """One ``docker buildx build`` of the script: its words and options as written."""

    start: int
    end: int
    words: list[Word]  # after `docker buildx build`
    options: list[Option] = field(default_factory=list)

    def all(self, *names: str) -> list[Word | None]:
        return [o.value for o in self.options if o.name in names]

    def has(self, name: str) -> bool:
        return any(o.name == name for o in self.options)


@dataclass
class Script:
    text: str
    data: bytes  # the script as UTF-8: tree-sitter's offsets are bytes
    builds: list[BuildCommand]
    # Top-level assignments before the (first) build, in order: (name, the statement as written).
    assignments: list[tuple[str, str]]

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode()


def syntax_tree(script: str) -> tuple[Node, bytes] | None:
    """The script's Bash syntax tree and the bytes it was parsed from; None when it does not
    parse. GitHub expands `${{ }}` before the shell runs: to the grammar each is an opaque run of
    word characters of the same length, so the offsets stay those of the script."""
    hidden = _EXPR.sub(lambda m: b"Z" * len(m.group(0)), script.encode())
    tree = _PARSER.parse(hidden)
    return None if tree.root_node.has_error else (tree.root_node, hidden)


def parse(script: str) -> Script:
    data = script.encode()
    parsed = syntax_tree(script)
    if parsed is None:
        raise Decline("the `run:` script cannot be parsed as a shell script")
    root, hidden = parsed
    builds: list[BuildCommand] = []
    assignments: list[tuple[str, str]] = []
    statements = [(node, _statement(node, hidden)) for node in root.named_children]
    if not any(kind == "build" for _, kind in statements) and b"docker buildx build" not in hidden:
        raise Decline("the `run:` script has no `docker buildx build` command, so it is not split per platform "
                      "(it is not `docker buildx build`)")
    for node, kind in statements:
        text = data[node.start_byte:node.end_byte].decode()
        if kind == "build":
            builds.append(_build(node, data, hidden))
        elif kind == "assign":
            if not builds:
                for name in _assigned(node, hidden):
                    assignments.append((name, text))
        elif kind == "setup":
            if builds:
                raise Decline(f"the script runs `{_first_line(text)}` after the build; only set-up commands before it "
                              "are kept in each leg")
        elif kind != "plain" and b"docker buildx build" in hidden[node.start_byte:node.end_byte]:
            raise Decline(f"the script's `docker buildx build` is part of a {node.type.replace('_', ' ')} "
                          f"(`{_first_line(text)}`); only a build command that is a statement of its own is split "
                          "per platform")
        elif kind != "plain":
            where = "after the build, which may use the pushed image" if builds else "before the build"
            raise Decline(f"the script runs `{_first_line(text)}` {where}; only assignments, `export`, `set`, `cd`, "
                          "`echo`, `printf`, builder set-up and `docker buildx build` commands are split per platform")
    if not builds:
        raise Decline("the `run:` script has no `docker buildx build` command of its own")  # only nested ones
    return Script(script, data, builds, assignments)


def single_quoted(script: str) -> list[tuple[int, int]]:
    """Character ranges of the script's single-quoted strings, where the shell expands nothing."""
    data = script.encode()
    tree = _PARSER.parse(_EXPR.sub(lambda m: b"Z" * len(m.group(0)), data))
    found: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "raw_string":
            found.append((len(data[:node.start_byte].decode(errors="replace")),
                          len(data[:node.end_byte].decode(errors="replace"))))
        stack.extend(node.children)
    return found


def _first_line(text: str) -> str:
    line = text.strip().split("\n")[0].rstrip("\\ ")
    return line if len(line) <= 70 else line[:70].rsplit(" ", 1)[0] + " ..."


def _words(node: Node, hidden: bytes) -> list[str]:
    return [hidden[c.start_byte:c.end_byte].decode() for c in node.named_children]


def _statement(node: Node, hidden: bytes) -> str:
    """What a top-level statement is: comment/plain, assign, setup, build or other."""
    if node.type == "comment":
        return "plain"
    if node.type == "variable_assignment" or node.type == "declaration_command" and \
            hidden[node.start_byte:node.end_byte].startswith(b"export"):
        return "assign"
    if node.type == "redirected_statement":
        inner = node.named_children[0]
        targets = [c for c in node.named_children[1:]]
        if inner.type == "command" and _name(inner, hidden) in ("echo", "printf") and all(
                t.type == "file_redirect" and RUNNER_FILES.match(hidden[t.named_children[-1].start_byte:
                                                                       t.named_children[-1].end_byte].decode())
                and hidden[t.start_byte:t.end_byte].startswith(b">>") for t in targets):
            return "plain"
        return "other"
    if node.type != "command":
        return "other"
    name = _name(node, hidden)
    if name in PLAIN_COMMANDS and not any(c.type == "variable_assignment" for c in node.named_children):
        return "plain"
    if name == "docker":
        args = [hidden[c.start_byte:c.end_byte].decode() for c in node.named_children if c.type != "command_name"
                and c.type != "variable_assignment"]
        if args[:2] == ["buildx", "build"]:
            return "build"
        if len(args) >= 2 and args[0] == "buildx" and args[1] in BUILDER_SETUP:
            return "setup"
        if args[:1] in (["version"], ["info"]):
            return "setup"
    return "other"


def _name(command: Node, hidden: bytes) -> str:
    for c in command.named_children:
        if c.type == "command_name":
            return hidden[c.start_byte:c.end_byte].decode()
    return ""


def _assigned(node: Node, hidden: bytes) -> list[str]:
    names = []
    for c in [node] if node.type == "variable_assignment" else node.named_children:
        if c.type == "variable_assignment":
            names.append(hidden[c.named_children[0].start_byte:c.named_children[0].end_byte].decode())
    return names


def _word(node: Node, data: bytes, hidden: bytes) -> Word:
    raw = data[node.start_byte:node.end_byte].decode()
    shape = hidden[node.start_byte:node.end_byte].decode()
    substitutes = "$(" in shape or "`" in shape
    expands = "$" in shape or "`" in shape
    literal = not expands and "${{" not in raw
    value = raw
    if not expands:
        try:
            split = shlex.split(raw)
        except ValueError:
            split = []
        if len(split) == 1:
            value = split[0]
        elif literal:
            raise Decline(f"the build command's word `{raw}` cannot be read safely")
    return Word(raw, node.start_byte, node.end_byte, value, literal, expands, substitutes)


def _build(node: Node, data: bytes, hidden: bytes) -> BuildCommand:
    children = [c for c in node.named_children if c.type not in ("command_name", "variable_assignment")]
    words = [_word(c, data, hidden) for c in children[2:]]
    build = BuildCommand(node.start_byte, node.end_byte, words)
    i = 0
    while i < len(words):
        word = words[i]
        name, value, end = word.value, None, word.end
        if word.literal and name.startswith("--") and "=" in name:
            name = name.split("=", 1)[0]
            rest = word.raw.split("=", 1)[1]
            value = Word(rest, word.start + len(word.raw.split("=", 1)[0].encode()) + 1, word.end,
                         word.value.split("=", 1)[1], True, False, False)
        elif not word.literal and word.raw.startswith("--") and "=" in word.raw.split("$", 1)[0]:
            name, rest = word.raw.split("=", 1)
            value = Word(rest, word.start + len(name.encode()) + 1, word.end, rest, False, word.expands, word.substitutes)
        elif word.literal and name in VALUED:
            if i + 1 >= len(words):
                raise Decline(f"`{name}` has no value in the build command")
            i += 1
            value, end = words[i], words[i].end
        elif word.literal and re.match(r"^-[A-Za-z]{2,}", name):
            raise Decline(f"the build command's `{name}` joins a short option and its value, which is not rewritten "
                          "automatically")
        if name.startswith("-"):
            build.options.append(Option(name, value, word.start, end))
        i += 1
    return build
