"""What a ``docker/bake-action`` step builds, read from its inputs and its bake files.

The step's files are ``files:`` (relative to ``workdir:``; a ``cwd://`` prefix means the same
here, since the checkout and the Git context hold the same files), else bake's default names in
``workdir``. docker/metadata-action's bake file (``${{ steps.meta.outputs.bake-file }}``) is
written at run time: it only defines the target ``docker-metadata-action`` (or the step's
``bake-target``) with tags, labels and annotations, so it is noted, not read. ``set:`` lines
override what the files say, as they do for bake.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from ..workflows.model import Build, Workflow, _matrix_values
from .definition import COMPOSE_FILES, DEFAULT_FILES, BakeError, Definition, parse
from .resolve import Resolver, Unknown

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_META_FILE = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.bake-file(?:-tags|-labels|-annotations)?\s*\}\}$")
_SET_LINE = re.compile(r"^(?P<target>[\w*.-]+?)\.(?P<attr>[\w-]+)=(?P<value>.*)$")
METADATA = "docker/metadata-action"
META_TARGET = "docker-metadata-action"


@dataclass
class BakeTarget:
    name: str
    platforms: list[str] | None  # None: none set (the runner's own platform)
    dockerfile: str | None  # the repository path, when it is a file of the repository
    tags: list[str] | None  # None: none set in the files (or only the metadata step's)
    tags_unknown: str = ""  # why the file's tags cannot be known, when they cannot
    output: list[str] = field(default_factory=list)
    inherits: set[str] = field(default_factory=set)  # every target it inherits, directly or not
    unread: str = ""  # why its bake files could not be read (then only the step's `set:` lines are known)
    attributes: frozenset[str] = frozenset()  # the attributes its bake files set (with `inherits` applied)


@dataclass
class BakeView:
    files: list[str]  # the definition files read, in order
    targets: list[BakeTarget]
    meta_steps: list[str]  # ids of metadata steps whose bake file the step includes

    @property
    def platforms(self) -> list[str] | None:
        """Every platform the step builds (None when no target sets any)."""
        found = [p for t in self.targets for p in t.platforms or ()]
        return list(dict.fromkeys(found)) or None


def _words(text: str | None) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text or "") if w]


def _clean(*parts: str) -> str:
    path = posixpath.normpath(posixpath.join(*parts))
    return "" if path == "." else path.lstrip("/")


def base_dir(build: Build) -> str:
    """Where the step's bake files and contexts are: ``workdir``, or the Git context's subdirectory
    (``source: "{{defaultContext}}:dir"``)."""
    source = (build.step.input("source") or "").strip()
    sub = re.fullmatch(r"\{\{\s*defaultContext\s*\}\}(?::(.*))?", source)
    if source not in ("", ".") and sub is None:
        raise BakeError(f"the bake step reads its definition from `{source}`, not from this repository's files")
    workdir = (build.step.input("workdir") or ".").strip()
    if _EXPRESSION.search(workdir + source):
        raise BakeError("the bake step's `workdir` or `source` is computed at run time")
    return _clean(workdir, sub.group(1) or ".") if sub else _clean(workdir)


def definition_files(build: Build, bake_files: dict[str, str], repo_paths: frozenset[str]) -> tuple[list[str], list[str]]:
    """(repository paths of the step's bake files, metadata step ids); ``BakeError`` says why not."""
    step = build.step
    workdir = base_dir(build)
    files, metas = [], []
    for entry in [e.strip() for e in re.split(r"[\n,]", step.input("files") or "") if e.strip()]:
        entry = entry.removeprefix("cwd://")
        meta = _META_FILE.match(entry)
        if meta:
            metas.append(meta.group(1))
            continue
        if _EXPRESSION.search(entry):
            raise BakeError(f"the bake file `{entry}` is named at run time")
        path = _clean(workdir, entry)
        if path not in bake_files:
            where = "was not read (only `*.hcl` and `*bake*.json` files are)" if path in repo_paths \
                else "is not in the repository"
            raise BakeError(f"the bake file `{path}` {where}")
        files.append(path)
    if not files and not step.input("files"):
        known = repo_paths | frozenset(bake_files)
        found = [p for name in DEFAULT_FILES if (p := _clean(workdir, name)) in known]
        compose = [p for p in found if p.rsplit("/", 1)[-1] in COMPOSE_FILES]
        if compose:
            raise BakeError(f"the bake definition includes the Compose file `{compose[0]}`, which is not read")
        files = [p for p in found if p in bake_files]
        if not files:
            raise BakeError(f"no bake file ({', '.join(DEFAULT_FILES[4:])}) in `{workdir or '.'}`")
    if not files:
        raise BakeError("the bake step's only bake file is the metadata step's; its targets are not known")
    return files, metas


def job_env(workflow: Workflow, build: Build) -> dict[str, str | None]:
    """Variables the step's environment sets for bake (workflow, job and step `env:`)."""
    env: dict[str, str | None] = {}
    scopes = [workflow.root.get("env"), build.job.get("env"), build.step.node.get("env")]
    for scope in scopes:
        if isinstance(scope, dict):
            for key, value in scope.items():
                text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
                env[str(key)] = None if _EXPRESSION.search(text) else text
        elif scope is not None:
            return {}  # a computed env: every variable could be set by it
    return env


def set_lines(build: Build) -> list[tuple[str, str, str, str]]:
    """(line, target, attribute, value) for each line of the step's ``set:``."""
    out = []
    for line in (build.step.input("set") or "").split("\n"):
        if not line.strip():
            continue
        m = _SET_LINE.match(line.strip())
        if m is None:
            raise BakeError(f"the bake step's `set:` line `{line.strip()}` is not `<target>.<attribute>=<value>`")
        out.append((line.strip(), m.group("target"), m.group("attr"), m.group("value")))
    return out


def read_step(workflow: Workflow, build: Build, bake_files: dict[str, str], repo_paths: frozenset[str]) -> BakeView:
    """The targets the step builds, with their platforms, Dockerfile, tags and outputs."""
    raw_targets = build.step.input("targets") or ""
    if _EXPRESSION.search(raw_targets):
        raise BakeError(f"the bake step's targets (`{raw_targets.strip()}`) are computed at run time")
    files, metas = definition_files(build, bake_files, repo_paths)
    definition = Definition()
    for path in files:
        definition.merge(parse(path, bake_files[path]))
    resolver = Resolver(definition, job_env(workflow, build))
    names = resolver.expand(_words(raw_targets) or ["default"])
    if not names:
        raise BakeError(f"the bake step's `{raw_targets.strip() or 'default'}` is a group without targets")
    sets = set_lines(build)
    workdir = base_dir(build)
    legs = matrix_platforms(build, sets)
    return BakeView(files, [_target(resolver, name, sets, workdir, legs) for name in names], metas)


def matrix_platforms(build: Build, sets: list) -> list[str] | None:
    """The platforms of a job whose matrix already builds one per leg
    (``*.platform=${{ matrix.<key> }}`` over literal platform values)."""
    found = [v for _, t, a, v in sets if a == "platform"]
    m = re.fullmatch(r"\$\{\{\s*matrix\.([A-Za-z_][\w-]*)\s*\}\}", found[-1].strip()) if found else None
    values = _matrix_values(build.job, m.group(1)) if m else []
    return values if values and all(re.fullmatch(r"[a-z0-9]+/[\w/.-]+", v) for v in values) else None


def _target(resolver: Resolver, name: str, sets: list, workdir: str, legs: list[str] | None) -> BakeTarget:
    attrs = resolver.target(name)
    if "matrix" in attrs:
        raise BakeError(f"bake target `{name}` has its own `matrix`")
    overrides = {a: v for _, t, a, v in sets if t in ("*", name)}
    if "platform" in overrides and legs:
        platforms = legs  # one per leg of the job's matrix
    elif "platform" in overrides:
        value = overrides["platform"]
        if _EXPRESSION.search(value):
            raise BakeError(f"the bake step's platforms (`{value}`) are computed at run time")
        platforms = [p.strip() for p in value.split(",") if p.strip()]
    else:
        try:
            platforms = resolver.strings(attrs.get("platforms"), f"target `{name}`'s `platforms`")
        except Unknown as exc:
            raise BakeError(f"the platforms of bake target `{name}` are not known before the run: {exc}") from None
    tags, unknown = None, ""
    try:
        tags = resolver.strings(attrs.get("tags"), f"target `{name}`'s `tags`")
    except Unknown as exc:
        unknown = str(exc)
    try:
        output = resolver.strings(attrs.get("output"), f"target `{name}`'s `output`") or []
    except Unknown as exc:
        raise BakeError(f"the output of bake target `{name}` is not known before the run: {exc}") from None
    return BakeTarget(name, platforms or None, _dockerfile(resolver, attrs, overrides, workdir), tags, unknown, output,
                      attrs.get("__inherits__", set()), attributes=frozenset(a for a in attrs if a != "__inherits__"))


def _dockerfile(resolver: Resolver, attrs: dict, overrides: dict, workdir: str) -> str | None:
    """bake's defaults: context ``.`` and ``Dockerfile`` in the context, both under ``workdir``."""
    if "dockerfile-inline" in attrs:
        return None
    try:
        context = str(overrides.get("context") or resolver.value(attrs.get("context")) or ".")
        dockerfile = str(overrides.get("dockerfile") or resolver.value(attrs.get("dockerfile")) or "Dockerfile")
    except BakeError:
        return None
    if _EXPRESSION.search(context + dockerfile) or re.match(r"^[\w+-]+://|^git@|^target:", context) \
            or dockerfile.startswith("/"):
        return None
    return _clean(workdir, context, dockerfile)
