"""A build step's own `outputs:` under the per-platform restructure.

Each leg pushes by digest (``type=image,name=...,push-by-digest=true,...``), replacing the
build's exporter. An exporter that pushes an image (``type=image``, ``type=registry``) keeps
what it says about that image: its attributes (media types, compression, ...) stay on the
legs, and its annotations go where they still apply. Manifest annotations stay on the legs;
index and descriptor annotations move to the merge job's ``imagetools create`` (a leg's own
index is not the one the merge job publishes). An exporter that writes somewhere else
(``local``, ``tar``, ``oci``, ``docker``, ``cacheonly``) is what the job wanted, and a push by
digest cannot replace it: declined.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

from .base import Decline

PUSHING = {"image", "registry"}
# Attributes of the image exporter that describe the image itself, the same on every leg.
KEPT = {"oci-mediatypes", "oci-artifact", "compression", "compression-level", "force-compression",
        "rewrite-timestamp", "buildinfo", "buildinfo-attrs", "store", "unpack", "dangling-name-prefix",
        "insecure", "registry.insecure"}
# Attributes the legs set themselves (the names come from the tags, the push from the build).
REPLACED = {"type", "name", "push", "push-by-digest", "name-canonical"}
# annotation-<level>[platform].key: `annotation.` alone means the manifest.
_ANNOTATION = re.compile(r"^annotation(?:-(index|manifest|manifest-descriptor|index-descriptor))?(\[[^\]]*\])?\.(.+)$")


@dataclass
class Exporter:
    """What of the build's exporter the legs keep and what the merge job adds."""

    leg_attributes: list[str] = field(default_factory=list)  # `key=value`, for the legs' outputs
    merge_annotations: list[str] = field(default_factory=list)  # `index:key=value`, for imagetools create
    pushes: bool = False  # the exporter itself pushes (`type=registry`, `push=true`)


def _fields(entry: str) -> list[str]:
    try:
        return next(csv.reader([entry], skipinitialspace=True, strict=True))
    except (csv.Error, StopIteration):
        raise Decline(f"the build's `outputs` entry `{entry}` cannot be read as comma-separated values") from None


def exporter(outputs: str | None) -> Exporter:
    """The build's ``outputs`` input read for the legs; declined where a push by digest cannot
    stand in for it."""
    entries = [e.strip() for e in (outputs or "").split("\n") if e.strip()]
    if not entries:
        return Exporter()
    if len(entries) > 1:
        raise Decline(f"the build step sets {len(entries)} `outputs`; a per-platform leg pushes by digest to one")
    entry = entries[0]
    if "${{" in entry:
        raise Decline(f"the build's `outputs` is computed at run time (`{entry}`): whether it pushes an image "
                      "or writes a local export is not known, so it is not replaced by a push by digest")
    if entry.startswith("-") or "=" not in entry:
        raise Decline(f"the build's `outputs` is `{entry}`, a shorthand that is not rewritten automatically")
    result = Exporter()
    items = _fields(entry)
    kinds = [item.partition("=")[2].strip() for item in items if item.partition("=")[0].strip() == "type"]
    if not kinds:
        raise Decline(f"the build's `outputs` (`{entry}`) names no `type`")
    kind = kinds[-1]
    if kind not in PUSHING:
        raise Decline(f"the build exports `type={kind}` (`{entry}`), which the job uses as it is; a per-platform "
                      "push by digest cannot replace it")
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise Decline(f"the build's `outputs` has `{item}` without a value")
        annotation = _ANNOTATION.match(key)
        if annotation:
            level, platform, name = annotation.groups()
            if level in (None, "manifest"):
                result.leg_attributes.append(item)
            elif level == "index-descriptor":
                raise Decline(f"the build's `outputs` sets `{key}`, an annotation of an OCI layout's own index "
                              "that a registry push does not have")
            elif platform:
                raise Decline(f"the build's `outputs` sets `{key}` for some platforms only, which the merged "
                              "image's `imagetools create` cannot say")
            else:
                result.merge_annotations.append(f"{level}:{name}={value}")
        elif key in KEPT:
            result.leg_attributes.append(item)
        elif key == "push":
            result.pushes = value.strip().lower() == "true"
        elif key not in REPLACED:
            raise Decline(f"the build's `outputs` sets `{key}`, which is not known to mean the same on a "
                          "per-platform push by digest")
    result.pushes = result.pushes or kind == "registry"
    return result
