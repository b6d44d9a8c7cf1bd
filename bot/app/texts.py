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
