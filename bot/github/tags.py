"""`docker-build-fixer versions --refresh`: each action's latest release of its current major
from GitHub's REST API (the repository's tag refs; an annotated tag is followed to its commit).

Synchronous and standalone (the CLI's one-off job, not the app's client): GITHUB_API_URL and an
optional GITHUB_TOKEN from the environment. Nothing is written unless every repository answered.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from ..versions import VERSION, pins, problems
from . import API_VERSION

USER_AGENT = "docker-build-fixer"
TIMEOUT = 20


class RefreshError(Exception):
    """GitHub could not be asked, or answered something unusable; the message says which."""


class TagsClient:
    def __init__(self, api_url: str, token: str | None = None):
        self.api_url = api_url.rstrip("/")
        self._token = token
        self.calls = 0

    def __repr__(self) -> str:  # the token never prints
        return f"TagsClient({self.api_url!r})"

    def get(self, path: str):
        request = urllib.request.Request(self.api_url + path, headers={
            "Accept": "application/vnd.github+json", "User-Agent": USER_AGENT,
            "X-GitHub-Api-Version": API_VERSION,
            **({"Authorization": f"Bearer {self._token}"} if self._token else {})})
        self.calls += 1
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise RefreshError(f"GitHub answered {exc.code} to GET {path}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RefreshError(f"cannot reach {self.api_url}: {reason}") from None
        except ValueError:
            raise RefreshError(f"GET {path} did not answer JSON") from None


def latest_release(client: TagsClient, repo: str, major: str) -> tuple[str, str]:
    """(vX.Y.Z, commit sha) of the highest release tag of ``major`` in ``repo``."""
    quoted = urllib.parse.quote(major)
    refs = client.get(f"/repos/{repo}/git/matching-refs/tags/{quoted}")
    best: tuple[tuple[int, ...], str, dict] | None = None
    for ref in refs if isinstance(refs, list) else []:
        name = str(ref.get("ref", "")).removeprefix("refs/tags/")
        m = VERSION.match(name)
        if not m or f"v{m.group(1)}" != major:
            continue
        key = tuple(int(g) for g in m.groups())
        if best is None or key > best[0]:
            best = (key, name, ref.get("object") or {})
    if best is None:
        raise RefreshError(f"{repo} has no release tag {major}.X.Y")
    _, name, target = best
    sha, kind = target.get("sha"), target.get("type")
    for _ in range(3):  # an annotated tag names a tag object; follow it to the commit
        if kind != "tag":
            break
        tag = client.get(f"/repos/{repo}/git/tags/{sha}")
        sha, kind = tag["object"]["sha"], tag["object"]["type"]
    if kind != "commit":
        raise RefreshError(f"{repo} tag {name} does not point to a commit")
    return name, sha


def refreshed(source: dict, client: TagsClient) -> dict:
    """A copy of the versions document with every action at its major's latest release."""
    result = json.loads(json.dumps(source))
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for name, current in pins(source).items():
        key = (current.repo, current.major)
        if key not in seen:
            seen[key] = latest_release(client, current.repo, current.major)
        version, sha = seen[key]
        result["actions"][name] = {"version": version, "sha": sha}
    bad = problems(result)
    if bad:
        raise RefreshError("; ".join(bad))
    return result
