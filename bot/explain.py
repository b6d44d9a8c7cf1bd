"""The explanation of a fix: what a PR body says (Markdown), built from named templates."""

from __future__ import annotations

import re

from .diagnosis import SIGNATURES, Finding
from .diagnosis.report import step_label
from .remedies.catalogue import REMEDY_INFO

WHAT_FAILED = "## What failed\n\n{where}\n\n**`{signature}`: {title}.** {meaning}\n"
EVIDENCE = "The log (line {line}{file}):\n\n{fence}text\n{excerpt}\n{fence}\n"
ALSO = "Also in the log: {others}.\n"
WHY = "## Why this change\n\n**{title}** (`{remedy}`). {why}\n"
WHY_EVIDENCE = "Evidence: {evidence}.\n"
PASSED_OVER = "Passed over, earlier on the ladder: {items}.\n"
LOCATED = "Where: {why}.\n"
CHANGED = "## What changed\n\n{lines}\n"
RISKS = "## Risks\n\n{lines}\n"
VERIFY = ("## How to verify\n\nRun the workflow on this branch (or merge and watch the next run): the "
          "{platform} build should get past `{step}`.\n")
NEXT = "## If it does not work\n\n{text}\n"
NEXT_REMEDY = "The next step is **{title}** (`{remedy}`): {why}"
NO_NEXT = "Nothing further is proposed automatically for this failure; a maintainer should look at the log."


def neutralise(text: str) -> str:
    """Log text is the maintainer's evidence, not ours to trust: no @-mentions, no HTML comments."""
    text = re.sub(r"(?<![\w@./+-])@(?=[A-Za-z0-9])", "@\u200b", text)
    return text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def _fence(lines: list[str]) -> str:
    longest = max((len(m) for line in lines for m in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def where(finding: Finding, location_why: str) -> str:
    leg = f"The `{finding.platform}` build" if finding.platform else "The build"
    step = step_label(finding.step)
    return f"{leg} failed" + (f" at `{step}`" if step else "") + f". {LOCATED.format(why=location_why).strip()}"


def explanation(findings: list[Finding], remedy: str, summaries: list[str], notes: list[str],
                next_remedy: str | None, location_why: str, passed_over: dict[str, str] | None = None) -> str:
    primary = findings[0]
    signature = SIGNATURES[primary.signature]
    excerpt = [neutralise(line) for line in primary.excerpt]
    parts = [
        WHAT_FAILED.format(where=where(primary, location_why), signature=primary.signature,
                           title=signature.title, meaning=signature.meaning),
        EVIDENCE.format(line=primary.line, file=f" of {primary.file}" if primary.file else "",
                        fence=_fence(excerpt), excerpt="\n".join(excerpt)),
    ]
    if len(findings) > 1:
        parts.append(ALSO.format(others=", ".join(
            f"`{f.signature}`" + (f" ({f.platform})" if f.platform else "") + f" at line {f.line}"
            for f in findings[1:])))
    info = REMEDY_INFO[remedy]
    parts.append(WHY.format(title=info.title, remedy=remedy, why=info.why))
    if info.evidence:
        parts.append(WHY_EVIDENCE.format(evidence="; ".join(info.evidence)))
    if passed_over:
        parts.append(PASSED_OVER.format(items="; ".join(f"`{r}` ({why})" for r, why in passed_over.items())))
    parts.append(CHANGED.format(lines="\n".join(f"- {s}" for s in summaries)))
    if notes:
        parts.append(RISKS.format(lines="\n".join(f"- {n}" for n in notes)))
    parts.append(VERIFY.format(platform=primary.platform or "multi-platform",
                               step=step_label(primary.step) or "the failing step"))
    if next_remedy:
        nxt = REMEDY_INFO[next_remedy]
        parts.append(NEXT.format(text=NEXT_REMEDY.format(title=nxt.title, remedy=next_remedy, why=nxt.why)))
    else:
        parts.append(NEXT.format(text=NO_NEXT))
    return "\n".join(parts)
