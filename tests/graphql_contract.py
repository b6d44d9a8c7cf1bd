"""GitHub's published GraphQL schema as a contract, the way tests/contract.py holds the REST
description: every document the app sends is parsed and validated against the schema
(graphql-core), then executed with resolvers over the sandbox's repositories. A field,
argument or type GitHub does not have fails validation; the answer has the shape GitHub's
would, because the schema's own executor builds it.

The resolvers are plain objects, one class per GraphQL type the sandbox serves, with a method
or property per field (graphql-core's default resolver calls them). A field the app may ask
for that the sandbox does not serve yet shows up as a violation ("Cannot return null for
non-nullable field" or a missing value), never as a silent null: add it to its class.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache
from typing import Any, Callable, Protocol

from graphql import GraphQLError, GraphQLSchema, build_schema, execute_sync, parse, validate

from .data import GRAPHQL_SCHEMA


class Repo(Protocol):
    """What the resolvers read of a sandbox repository (tests/sandbox.py's Repo)."""

    owner: str
    name: str
    private: bool
    default_branch: str
    blobs: dict[str, bytes]
    trees: dict[str, dict[str, str]]
    commits: dict[str, dict]
    refs: dict[str, str]
    blob_text_limit: int | None

    def resolve(self, rev: str) -> str | None: ...


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    with gzip.open(GRAPHQL_SCHEMA, "rt", encoding="utf-8") as handle:
        sdl = handle.read()
    # GitHub's SDL breaks one graphql-js rule (a deprecated interface field that an implementing
    # type does not deprecate): the schema is what GitHub serves, so it is taken as valid, and
    # the documents sent to it are what gets validated.
    return build_schema(sdl, assume_valid=True, assume_valid_sdl=True)


class NotFound(Exception):
    """GitHub's `NOT_FOUND` error: the query is valid, the object is not there (or not visible
    to this token). Not a contract violation."""


def answer(document: Any, variables: Any, root: "Query") -> tuple[dict, list[str]]:
    """GitHub's response body to a GraphQL request, and the contract violations it shows."""
    if not isinstance(document, str):
        return _refused("A query attribute must be specified and must be a string.")
    if variables is not None and not isinstance(variables, dict):
        return _refused("Variables must be an object.")
    try:
        ast = parse(document)
    except GraphQLError as exc:
        return _refused(exc.message, exc)
    invalid = validate(schema(), ast)
    if invalid:
        return ({"errors": [error.formatted for error in invalid]},
                [f"graphql: {error.message}" for error in invalid])
    result = execute_sync(schema(), ast, root_value=root, variable_values=variables or {},
                          type_resolver=lambda value, info, abstract: value.typename)
    body: dict = {"data": result.data}
    violations = []
    if result.errors:
        body["errors"] = []
        for error in result.errors:
            formatted = dict(error.formatted)
            if isinstance(error.original_error, NotFound):
                formatted["type"] = "NOT_FOUND"  # where GitHub puts it
            else:
                violations.append(f"graphql: {error.message} at {'.'.join(map(str, error.path or []))}")
            body["errors"].append(formatted)
    return body, violations


def _refused(message: str, error: GraphQLError | None = None) -> tuple[dict, list[str]]:
    formatted = dict(error.formatted) if error else {"message": message}
    return {"errors": [formatted]}, [f"graphql: {message}"]


def _oid(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


# -- resolvers over the sandbox's state -------------------------------------------------------

class Query:
    def __init__(self, find: Callable[[str], Repo | None]):
        self._find = find  # a repository this token may see, by full name, or None

    def repository(self, info, owner: str, name: str, followRenames: bool = True) -> "Repository":
        repo = self._find(f"{owner}/{name}")
        if repo is None:
            raise NotFound(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return Repository(repo)


class Owner:
    typename = "Organization"

    def __init__(self, login: str):
        self.login = login


class Repository:
    typename = "Repository"

    def __init__(self, repo: Repo):
        self.repo = repo
        self.name = repo.name
        self.nameWithOwner = f"{repo.owner}/{repo.name}"
        self.isPrivate = repo.private
        self.owner = Owner(repo.owner)

    def defaultBranchRef(self, info) -> "Ref":
        return Ref(self.repo, f"heads/{self.repo.default_branch}")

    def ref(self, info, qualifiedName: str) -> "Ref | None":
        # A fully qualified name (refs/heads/main), else a short one (main), as GitHub documents.
        if qualifiedName.startswith("refs/"):
            candidates = [qualifiedName.removeprefix("refs/")]
        else:
            candidates = [f"heads/{qualifiedName}", f"tags/{qualifiedName}"]
        return next((Ref(self.repo, c) for c in candidates if c in self.repo.refs), None)

    def object(self, info, expression: str | None = None, oid: str | None = None):
        """`oid`, or a rev-parse expression: `REV` or `REV:PATH` (REV a branch, tag or commit)."""
        if oid is not None:
            return git_object(self.repo, oid)
        rev, colon, path = (expression or "").partition(":")
        commit = self.repo.resolve(rev)
        if commit is None:
            return None
        if not colon:
            return Commit(self.repo, commit)
        return Commit(self.repo, commit).entry_object(path)


def git_object(repo: Repo, oid: str):
    if oid in repo.commits:
        return Commit(repo, oid)
    if oid in repo.trees:
        return Tree(repo, repo.trees[oid], oid)
    if oid in repo.blobs:
        return Blob(repo.blobs[oid], repo.blob_text_limit)
    return None


class Ref:
    typename = "Ref"

    def __init__(self, repo: Repo, ref: str):  # ref: "heads/main"
        self.repo, self._ref = repo, ref
        kind, _, self.name = ref.partition("/")
        self.prefix = f"refs/{kind}/"

    def target(self, info) -> "Commit":
        return Commit(self.repo, self.repo.refs[self._ref])


class Commit:
    typename = "Commit"

    def __init__(self, repo: Repo, sha: str):
        self.repo, self.oid = repo, sha
        self.abbreviatedOid = sha[:7]
        self.message = repo.commits[sha]["message"]

    def tree(self, info=None) -> "Tree":
        tree_sha = self.repo.commits[self.oid]["tree"]
        return Tree(self.repo, self.repo.trees[tree_sha], tree_sha)

    def file(self, info, path: str) -> "TreeEntry | None":
        return self.tree().entry(path.strip("/"))

    def entry_object(self, path: str):
        entry = self.tree().entry(path.strip("/"))
        return entry.object(None) if entry else None


class Tree:
    """A (sub)tree of the sandbox's flat {path: blob sha} trees."""

    typename = "Tree"

    def __init__(self, repo: Repo, files: dict[str, str], oid: str):
        self.repo, self.files, self.oid = repo, files, oid
        self.abbreviatedOid = oid[:7]

    def subtree(self, directory: str) -> "Tree | None":
        inner = {p[len(directory) + 1:]: b for p, b in self.files.items() if p.startswith(directory + "/")}
        return Tree(self.repo, inner, _oid(json.dumps(sorted(inner.items())).encode())) if inner else None

    def entry(self, path: str) -> "TreeEntry | None":
        if path in self.files:
            blob = Blob(self.repo.blobs[self.files[path]], self.repo.blob_text_limit)
            return TreeEntry(self.repo, path, path.rsplit("/", 1)[-1], blob)
        sub = self.subtree(path)
        return TreeEntry(self.repo, path, path.rsplit("/", 1)[-1], sub) if sub else None

    def entries(self, info) -> list["TreeEntry"]:
        names = sorted({p.split("/", 1)[0] for p in self.files})
        return [self.entry(name) for name in names]


class TreeEntry:
    typename = "TreeEntry"

    def __init__(self, repo: Repo, path: str, name: str, target: "Blob | Tree"):
        self.path, self.name, self._target = path, name, target
        self.type = "blob" if isinstance(target, Blob) else "tree"
        self.mode = 0o100644 if isinstance(target, Blob) else 0o40000
        self.oid = target.oid
        self.size = target.byteSize if isinstance(target, Blob) else 0
        self.extension = "." + name.rsplit(".", 1)[1] if "." in name else None

    def object(self, info):
        return self._target


class Blob:
    typename = "Blob"

    def __init__(self, data: bytes, text_limit: int | None = None):
        self.oid = _oid(data)
        self.abbreviatedOid = self.oid[:7]
        self.byteSize = len(data)
        self.isBinary = b"\0" in data
        # GitHub does not document where it cuts `text`; a test sets the cut (isTruncated).
        self.isTruncated = text_limit is not None and len(data) > text_limit
        # GitHub: "UTF8 text data or null if the Blob is binary".
        self.text = None if self.isBinary else data[:text_limit].decode("utf-8", "replace")
