"""The registry logins the per-platform restructure's merge job repeats.

The merge job pushes the multi-platform image, so it logs in as the build job did: the
docker/login-action steps are copied as written, and so is a `run:` step that logs in with
`docker login` (``docker login -u ... -p ...``, ``echo "$TOKEN" | docker login ... --password-stdin``)
when it is self-contained: nothing but that login, reading only secrets, variables, the
`github` context and `env:` the merge job has too (its own, the job's, the workflow's). A
login script that does more (a cloud CLI fetching a password, a value another step computed)
depends on the build job's earlier steps, and is declined rather than copied half-working.
"""

from __future__ import annotations

import re

from ..workflows.model import StepRef
from .base import Decline
from .references import LOGIN

_DOCKER_LOGIN = re.compile(r"\bdocker\s+login\b")
# What may feed the password to `docker login` on its standard input.
_FEEDERS = re.compile(r"^(?:echo|printf)\b[^|;&`]*\|\s*")
_OTHER_STEPS = re.compile(r"\bsteps\.[A-Za-z_][\w-]*\.")


def is_docker_login(step: StepRef) -> bool:
    script = step.node.get("run")
    return step.uses is None and isinstance(script, str) and bool(_DOCKER_LOGIN.search(script))


def _self_contained(script: str) -> bool:
    joined = re.sub(r"\\\r?\n[ \t]*", " ", script)
    for line in (line.strip() for line in joined.splitlines()):
        if not line or line.startswith("#"):
            continue
        command = _FEEDERS.sub("", line)
        if not command.startswith("docker login ") or re.search(r"[|;&`]|\$\(|>", command):
            return False
    return not _OTHER_STEPS.search(script)


def logins(steps: list[StepRef], before: int) -> list[StepRef]:
    """The login steps before step ``before`` that the merge job repeats."""
    found = []
    for st in steps[:before]:
        if st.action == LOGIN:
            found.append(st)
        elif is_docker_login(st):
            if not _self_contained(str(st.node["run"])):
                label = st.node.get("name") or st.node.get("id") or f"step {st.index + 1}"
                raise Decline(f"`{label}` logs in with a script that does more than `docker login` (or reads another "
                              "step's output): the merge job, which pushes the image, cannot repeat it as it is")
            found.append(st)
    return found
