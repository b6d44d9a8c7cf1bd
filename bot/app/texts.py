"""Everything the app writes on GitHub: pull request titles and bodies, comments, the
attention issue. Named templates, so that wording is reviewed in one place."""

from __future__ import annotations

import json
import re

from ..remedies.catalogue import REMEDY_INFO

MARKER_PREFIX = "<!-- docker-build-fixer: "
MARKER = MARKER_PREFIX + "{json} -->"
MARKER_RE = re.compile(r"<!-- docker-build-fixer: (\{.*?\}) -->")
BRANCH = "docker-build-fixer/{base}/{stem}"
COMMIT_MESSAGE = "{title}\n\n{signature} in {workflow}: {remedy}.\nRun: {run_url}\n"
PR_TITLE = "Fix the {platform}image build in {workflow}: {remedy_title}"
PR_BODY = """\
{intro}

Failed run: [{run_name} #{run_number}]({run_url}) · job [{job_name}]({job_url})

{explanation}
## Commands

Comment on this pull request (maintainers only):

- `@{handle} recreate`: rebuild this pull request from the current base branch
- `@{handle} next`: replace this change with the next remedy
- `@{handle} ignore`: close it and do not propose this remedy again for this workflow
- `@{handle} explain`: post the full diagnosis
- `@{handle} help`: list the commands

{marker}
"""
PR_INTRO = ("The `{workflow}` workflow failed on `{base}` with **`{signature}`**. This pull request makes "
            "the change that addresses it{companions}.")
PR_COMMENT = """\
**docker-build-fixer** diagnosed the failed run [{run_name} #{run_number}]({run_url}) of this pull request's
branch: **`{signature}`**. Proposed change (not pushed: this branch is yours):

```diff
{diff}
```

{explanation}
{marker}
"""
ATTENTION_TITLE = "docker-build-fixer needs attention"
ATTENTION_PERMISSION = """\
The `{workflow}` workflow failed with **`{signature}`** ([run]({run_url})). The change that fixes it
edits `.github/workflows/`, which a GitHub App may only do with the **Workflows: write** permission,
and this installation does not have it.

To let docker-build-fixer propose the fix, grant **Workflows: Read and write** in the app's
installation settings (Settings → GitHub Apps → docker-build-fixer → Configure), or apply this change
by hand:

```diff
{diff}
```

{marker}
"""


def marker(data: dict) -> str:
    # JSON inside an HTML comment: "--" must not appear (it would end the comment early).
    return MARKER.format(json=json.dumps(data, sort_keys=True).replace("--", "-\\u002d"))


def with_marker(body: str | None, data: dict) -> str:
    """The body with its marker replaced by one holding ``data`` (appended if it had none)."""
    body = body or ""
    m = MARKER_RE.search(body)
    new = marker(data)
    return body[:m.start()] + new + body[m.end():] if m else body + "\n" + new


def read_marker(body: str | None) -> dict | None:
    m = MARKER_RE.search(body or "")
    if not m:
        return None
    try:
        return json.loads(m.group(1))
    except ValueError:
        return None


def pr_title(platform: str | None, workflow: str, remedy: str) -> str:
    return PR_TITLE.format(platform=f"{platform} " if platform else "", workflow=workflow,
                           remedy_title=REMEDY_INFO[remedy].title.lower())


def fence(text: str) -> str:
    """Text inside a ```diff fence cannot close it."""
    return text.replace("```", "`\u200b``")

EARLIER = ("Earlier remedies for this workflow did not cure it ({links}); this one comes next on the ladder "
           "(already tried: {remedies}).")
UNVERIFIED = ("**Unverified**: the fix has not run yet. If the workflow runs for this branch, its result is "
              "reported here; a workflow that only runs on `push` to the default branch cannot verify it before "
              "merging.")
VERIFIED = "**Verified**: the workflow passed on this branch with this change ({run_url})."
HUMAN_PUSHED = ("Someone other than docker-build-fixer pushed to this branch, so it is theirs now: the app will not "
                "push to it or change this pull request again. `@{handle} recreate` starts over with a fresh "
                "branch.")
DECLINED = ("Closed without merging: `{remedy}` is recorded as declined for `{workflow}` and will not be proposed "
            "again; the next failure gets the next remedy, if any. To undo, comment `@{handle} recreate` here.")
GAVE_UP = ("The workflow still fails with `{signature}` after {attempts} attempts on this branch. docker-build-fixer "
           "stops here; a maintainer should look at the log: {run_url}")
NEXT_PUSHED = ("The workflow failed again on this branch with `{signature}` ({run_url}), so `{previous}` did not "
               "cure it: this pull request now carries the next remedy, `{remedy}`.")
ATTENTION_CONFIG = """\
`.github/docker-build-fixer.yml` on the default branch is invalid, so docker-build-fixer does nothing in this
repository until it is fixed:

```text
{error}
```

The keys and values it accepts are listed in the app's README (section "Config").

{marker}
"""
HELP = """\
Commands for docker-build-fixer (at the start of a comment on its pull request; maintainers only):

- `@{handle} recreate`: rebuild this pull request from the current base branch
- `@{handle} next`: replace this change with the next remedy on the ladder
- `@{handle} ignore`: close this pull request and never propose this remedy again for this workflow
- `@{handle} explain`: post the full diagnosis
- `@{handle} help`: this list
"""
UNKNOWN_COMMAND = "`{command}` is not a command I know.\n\n"
