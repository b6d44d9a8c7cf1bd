"""A job matrix over another dimension (Node versions, image variants, editions) that the
per-platform restructure extends with the platform.

GitHub expands a matrix in three passes ("Running variations of jobs in a workflow"): the
cartesian product of its lists; `exclude` removes every combination an entry matches
partially; each `include` entry is added to every original combination whose original values
it does not overwrite (its other keys are added, and may overwrite what an earlier entry
added), and an entry that fits no original combination becomes a combination of its own (which
later entries do not extend). Adding `platform` as one more list changes what the include
entries do: an entry that created a combination of its own would now be added to every leg of
a platform (an include-only matrix), or become a leg without a platform. So an include-only
matrix, or one whose combinations each list their own platforms (`platforms: a,b` per entry),
is written out as one include entry per (combination, platform); a matrix with lists keeps its
lists and `exclude` and gets `platform` as one more list, with the include entries that
created combinations of their own written out per platform. The result is expanded again
(`check_legs`) and must be exactly the original combinations times their platforms.

The merge job is a matrix over the original combinations (the matrix as written); each
combination's digests are told apart in the artifact names by the values of a few keys
(`ident`), checked to pick only their own combination's artifacts.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from typing import Any

from ..workflows.model import split_platforms
from ..workflows.yamldoc import plain
from .base import Decline

OWN_KEYS = ("platform", "pair", "runner", "qemu")
_SAFE = re.compile(r"[A-Za-z0-9._-]+")  # a value that may stand in an artifact name and a pattern


class Axes(dict):
    """Each key a combination of the original matrix has -> its values (the merge job has them
    all), with what it takes to write the legs and the merge job."""

    def __init__(self, data: dict, combos: list[dict], ident: list[str], platform_key: str | None,
                 drop_key: bool = False):
        values: dict[str, list] = {}
        for combo in combos:
            for k, v in combo.items():
                values.setdefault(k, [])
                if v not in values[k]:
                    values[k].append(v)
        super().__init__(values)
        self.data = data  # the original matrix, the merge job's
        self.combos = combos
        self.ident = ident
        self.platform_key = platform_key  # the key each combination lists its platforms in
        self.drop_key = drop_key  # only the build read it: the legs carry `platform` instead

    def platforms_of(self, combo: dict, platforms: list[str]) -> list[str]:
        if self.platform_key is None:
            return platforms
        return split_platforms(str(combo[self.platform_key]))

    @property
    def explicit(self) -> bool:
        """The legs are written out one include entry per (combination, platform)."""
        return self.platform_key is not None or not _lists(self.data)


def _lists(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("include", "exclude")}


def expand(data: dict) -> list[dict]:
    """The combinations GitHub runs for matrix ``data`` (plain data, every list literal)."""
    lists = _lists(data)
    combos = [dict(zip(lists, values)) for values in itertools.product(*lists.values())] if lists else []
    for entry in data.get("exclude") or []:
        combos = [c for c in combos if not all(c.get(k) == v for k, v in entry.items())]
    originals = [dict(c) for c in combos]
    created = []
    for entry in data.get("include") or []:
        fits = False
        for original, combo in zip(originals, combos):
            if all(original[k] == v for k, v in entry.items() if k in original):
                combo.update(entry)
                fits = True
        if not fits:
            created.append(dict(entry))
    return combos + created


def _fits(entry: dict, originals: list[dict]) -> bool:
    return any(all(o[k] == v for k, v in entry.items() if k in o) for o in originals)


def _computed(value: Any) -> bool:
    return isinstance(value, str) and "${{" in value


def other_axes(job_id: str, matrix: Any, platform_key: str | None = None, only_build_reads_key: bool = False) \
        -> dict[str, list]:
    """The job's matrix as the other dimension of the legs: plain lists as they are (a dict of
    lists), anything with `include`/`exclude` or per-combination platforms as ``Axes``. A matrix
    computed at run time (`fromJSON`) is declined: its combinations are not known."""
    data = plain(matrix)
    if not isinstance(data, dict) or any(_computed(v) for v in data.values()):
        raise Decline(f"job `{job_id}`'s matrix is computed at run time (`fromJSON`), so the combinations the "
                      "legs and the merge job would need are not known")
    names = ", ".join(str(k) for k in data if k not in ("include", "exclude")) or "its `include` entries"
    lists = _lists(data)
    if not all(isinstance(v, list) and v for v in lists.values()) or not all(
            isinstance(data.get(k, []), list) and all(isinstance(e, dict) for e in data.get(k, []))
            for k in ("include", "exclude")):
        raise Decline(f"job `{job_id}`'s matrix over {names} has values this app cannot expand")
    simple = all(isinstance(x, (str, int, float)) and not _computed(x) for v in lists.values() for x in v)
    if simple and platform_key is None and "include" not in data and "exclude" not in data:
        clash = [k for k in OWN_KEYS if k in data]
        if clash:
            raise Decline(f"job `{job_id}`'s matrix already has `{clash[0]}`, a key the per-platform legs need")
        return data
    combos = expand(data)
    keys = {k for c in combos for k in c}
    clash = [k for k in OWN_KEYS if k in keys and k != platform_key]
    if clash:
        raise Decline(f"job `{job_id}`'s matrix already has `{clash[0]}`, a key the per-platform legs need")
    if not combos:
        raise Decline(f"job `{job_id}`'s matrix has no combination")
    if platform_key is not None:
        for combo in combos:
            value = combo.get(platform_key)
            if not isinstance(value, str) or _computed(value) or not split_platforms(value):
                raise Decline(f"a combination of job `{job_id}`'s matrix has no literal `{platform_key}` "
                              f"(`{combo}`), so its legs are not known")
    return Axes(data, combos, _ident(job_id, combos, platform_key), platform_key, only_build_reads_key)


def _ident(job_id: str, combos: list[dict], platform_key: str | None) -> list[str]:
    """The fewest keys whose values tell every combination apart in an artifact name."""
    if len(combos) == 1:
        return []
    order = list(dict.fromkeys(k for c in combos for k in c if k != platform_key))
    usable = [k for k in order if all(isinstance(c.get(k), (str, int, float)) and not isinstance(c.get(k), bool)
                                      and _SAFE.fullmatch(str(c[k])) for c in combos)]
    for size in range(1, min(len(usable), 3) + 1):
        for keys in itertools.combinations(usable, size):
            names = ["-".join(str(c[k]) for k in keys) for c in combos]
            if len(set(names)) == len(names) and _patterns_exact(names):
                return list(keys)
    raise Decline(f"the combinations of job `{job_id}`'s matrix cannot be told apart by a few plain values, so "
                  "the merge job of each could not pick its own digests")


def _patterns_exact(names: list[str]) -> bool:
    """Each combination's download pattern (`<name>-*`) picks none of another's (`<other>-<pair>`)."""
    return not any(fnmatch.fnmatchcase(f"{other}-linux-arm64", f"{name}-*") or other.startswith(f"{name}-")
                   for name in names for other in names if other != name)


def named(other: dict) -> dict:
    """The keys (with their values) that name a combination's digest artifacts: for a matrix of
    plain lists all of them, else the fewest that tell the combinations apart (``ident``)."""
    return {k: other[k] for k in other.ident} if isinstance(other, Axes) else other


def merge_matrix(other: dict) -> dict:
    """The merge job's matrix: the original combinations."""
    return other.data if isinstance(other, Axes) else other


def _strip(combo: dict, other: Axes) -> dict:
    return {k: v for k, v in combo.items() if not (other.drop_key and k == other.platform_key)}


def legs_matrix(other: dict, legs: list[dict], platforms: list[str]) -> dict:
    """The legs' `matrix:`. ``legs``: one include entry per platform (`platform`, `pair`,
    `runner`, `qemu`)."""
    leg_of = {leg["platform"]: leg for leg in legs}
    if not isinstance(other, Axes):
        return {**other, "platform": [leg["platform"] for leg in legs], "include": legs} if other else \
            {"include": legs}
    data = other.data
    lists = _lists(data)
    originals = [dict(zip(lists, values)) for values in itertools.product(*lists.values())] if lists else []
    for entry in data.get("exclude") or []:
        originals = [c for c in originals if not all(c.get(k) == v for k, v in entry.items())]
    if other.explicit or not originals:  # (no list combination left: the legs' entries would make their own)
        keyed = _keyed(other, leg_of, platforms)
        if keyed is not None:
            return keyed
        return {"include": [_strip(c, other) | leg_of[p] for c in other.combos for p in other.platforms_of(c, platforms)]}
    include = []
    for entry in data.get("include") or []:
        if _fits(entry, originals):
            include.append(entry)
        else:  # a combination of its own: one per platform, with the leg's keys (nothing extends it)
            include += [entry | leg_of[p] for p in platforms]
    new = {**lists, "platform": list(platforms)}
    if data.get("exclude"):
        new["exclude"] = data["exclude"]
    new["include"] = include + legs
    return new


def _keyed(other: Axes, leg_of: dict[str, dict], platforms: list[str]) -> dict | None:
    """The legs as two lists, one key that tells the combinations apart (``name``) and the
    platform, with each combination's other values as an include entry that matches its
    value of that key, and `exclude` for the platforms a combination does not build. None when
    no single plain key tells them apart."""
    key = other.ident[0] if len(other.ident) == 1 else None
    if key is None and len(other.combos) == 1:
        key = next((k for k, v in other.combos[0].items() if k != other.platform_key
                    and isinstance(v, (str, int, float)) and not isinstance(v, bool) and not _computed(v)), None)
    if key is None:
        return None
    every = list(dict.fromkeys(p for c in other.combos for p in other.platforms_of(c, platforms)))
    new: dict[str, Any] = {key: [c[key] for c in other.combos], "platform": every}
    exclude = [{key: c[key], "platform": p} for c in other.combos for p in every if p not in other.platforms_of(c, platforms)]
    if exclude:
        new["exclude"] = exclude
    entries = [{key: c[key]} | {k: v for k, v in _strip(c, other).items() if k != key} for c in other.combos]
    new["include"] = [e for e in entries if len(e) > 1] + [leg_of[p] for p in every]
    return new


def check_legs(other: dict, new_matrix: Any, legs: list[dict], platforms: list[str]) -> bool:
    """Does ``new_matrix`` expand to exactly the original combinations times their platforms?"""
    if not isinstance(other, Axes):
        return True
    leg_of = {leg["platform"]: leg for leg in legs}
    got = expand(plain(new_matrix))
    wanted = [_strip(c, other) | leg_of[p] for c in other.combos for p in other.platforms_of(c, platforms)]
    key = lambda c: repr(sorted(c.items(), key=lambda kv: kv[0]))  # noqa: E731
    return sorted(map(key, got)) == sorted(map(key, wanted))


def union_platforms(other: Axes) -> list[str]:
    """Every platform some combination builds, in order."""
    return list(dict.fromkeys(p for c in other.combos for p in split_platforms(str(c[other.platform_key]))))


def per_combination(matrix: Any, key: str) -> bool:
    """Does some combination of the matrix list several platforms in ``key`` (`platforms:
    linux/amd64,linux/arm64` in an include entry)?"""
    data = plain(matrix)
    if not isinstance(data, dict):
        return False
    values = ([v for v in data.get(key)] if isinstance(data.get(key), list) else []) + [
        e[key] for e in data.get("include") or [] if isinstance(e, dict) and key in e]
    return any(isinstance(v, str) and "," in v and not _computed(v) for v in values)


_MATRIX_EXPR = re.compile(r"\$\{\{\s*([^}]*?matrix\.[^}]*?)\s*\}\}")


def tags_from_matrix(job: Any, tags: list[str], image_name) -> str | None:
    """Why the image names of ``tags`` are not known from the tags as written, when a tag reads
    the matrix: a value that holds a whole tag or a list of them (`tags: ${{ matrix.tags }}`
    with `a/b:1,c/d:1`) names no image by itself, so the tags are a list computed at run time
    (runtime_tags). None when every combination's value is a plain part of the name or tag."""
    strategy = job.get("strategy") if isinstance(job.get("strategy"), dict) else {}
    data = plain(strategy.get("matrix"))
    for tag in tags:
        if not _MATRIX_EXPR.search(tag):
            continue
        why = f"the tag `{tag}` takes its value from the matrix, which may hold whole tags or lists of them"
        if not isinstance(data, dict) or any(_computed(v) for v in data.values()):
            return why
        try:
            combos = expand(data)
        except (TypeError, AttributeError, KeyError):
            return why
        for combo in combos:
            def value(m: re.Match) -> str:
                ref = re.fullmatch(r"matrix\.([\w-]+)", m.group(1))
                if ref is None or not isinstance(combo.get(ref.group(1)), (str, int, float)) \
                        or re.search(r"[,\s]", str(combo[ref.group(1)])):
                    raise LookupError  # a list of tags, or a value of another kind
                return str(combo[ref.group(1)])
            try:
                whole, name = _MATRIX_EXPR.sub(value, tag), _MATRIX_EXPR.sub(value, image_name(tag))
            except LookupError:
                return why
            if image_name(whole) != name:
                return why
    return None


_RUNNER_ARM = re.compile(r"\b[A-Za-z][\w.-]*-arm(?:64)?\b")  # ubuntu-24.04-arm, windows-11-arm


def computed_arm_runner(workflow: Any, matrix: str) -> bool:
    """Does a `fromJSON(needs.<job>.outputs.<name>)` matrix come from a step whose script names
    an Arm runner label (a job that computes the legs and their runners)?"""
    m = re.search(r"needs\.([\w-]+)\.outputs\.([\w-]+)", matrix)
    job = workflow.jobs.get(m.group(1)) if m else None
    if not isinstance(job, dict):
        return False
    value = str(plain((job.get("outputs") or {}).get(m.group(2), "")))
    source = re.search(r"steps\.([\w-]+)\.outputs\.", value)
    steps = [st for st in job.get("steps") or [] if isinstance(st, dict)]
    scripts = [str(st.get("run", "")) for st in steps if source and st.get("id") == source.group(1)]
    return any(_RUNNER_ARM.search(script) for script in scripts)
