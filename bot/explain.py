"""The explanation of a fix: what a PR body says (Markdown), built from named templates."""

from __future__ import annotations

import re

from .diagnosis import SIGNATURES, Finding
from .diagnosis.report import step_label
from .planning import is_emulated
from .remedies.catalogue import REMEDY_INFO

WHAT_FAILED = "## What failed\n\n{where}\n\n**`{signature}`: {title}.** {meaning}\n"
EVIDENCE = "The log (line {line}{file}):\n\n{fence}text\n{excerpt}\n{fence}\n"
ALSO = "Also in the log: {others}.\n"
TIMING = "From the log's timestamps: {failed} ran {ran} before it failed; {others}.\n"
TIMING_OTHER = "{platform} reached its last step after {ran}"
TIMING_WORTH = 60  # seconds: a leg that failed sooner says nothing about emulation's cost
WHY = "## Why this change\n\n**{title}** (`{remedy}`). {why}\n"
WHY_EVIDENCE = "Evidence: {evidence}.\n"
PASSED_OVER = "Passed over, earlier on the ladder: {items}.\n"
LOCATED = "Where: {why}.\n"
CHANGED = "## What changed\n\n{lines}\n"
RISKS = "## Risks\n\n{lines}\n"
VERIFY = ("## How to verify\n\nRun the workflow on this branch (or merge and watch the next run): the "
          "{platform} build should get past `{step}`.\n")
NEXT = "## If it does not work\n\n{text}\n"
NEXT_REMEDY = "If the same failure comes back, the next step is **{title}** (`{remedy}`): {why}"
NO_NEXT = "Nothing further is proposed automatically for this failure; a maintainer should look at the log."
# What stays emulated after the change, so that "if it does not work" means something.
STILL_EMULATED = {
    "build-on-buildplatform": "After this change the failing stage runs natively on the runner; the other stages "
                              "of the {platform} image are still built under QEMU.",
    "pin-qemu": "After this change {platform} is still built under QEMU, with the pinned release.",
    "platform-matrix": "After this change {platform} is still built under QEMU, in a job of its own.",
    "node-heap": "After this change {platform} is built as before{emulated}, with a larger Node heap.",
    "package-manager-network": "After this change {platform} is built as before{emulated}, with a patient "
                               "package manager.",
}
NATIVE_AFTER = "After this change {platform} is built on a native runner: nothing of it is emulated{others}."
NATIVE_OTHERS = " ({platforms} still {verb})"
# owner/repo#N in the texts we write (never in log excerpts) become links.
_REFERENCE = re.compile(r"(?<![\w/.\[-])([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)#(\d+)\b")
_DOCS = re.compile(r"(?<![\w/\[(])(docs\.docker\.com/[\w./#-]*[\w/])")


def linkify(text: str) -> str:
    """Evidence as links: `owner/repo#N` to its issue or pull request, docs.docker.com paths to the page."""
    text = _REFERENCE.sub(lambda m: f"[{m.group(0)}](https://github.com/{m.group(1)}/issues/{m.group(2)})", text)
    return _DOCS.sub(lambda m: f"[{m.group(1)}](https://{m.group(1)})", text)


def still_emulated(remedy: str, platform: str | None, emulated: list[str] | None, was_emulated: bool) -> str:
    platform_text = f"`{platform}`" if platform else "the failing platform"
    if emulated is not None:
        others = [p for p in emulated if p != platform]
        if platform in emulated:
            return f"After this change {platform_text} is still built under QEMU."
        return NATIVE_AFTER.format(platform=platform_text, others=NATIVE_OTHERS.format(
            platforms=", ".join(f"`{p}`" for p in others), verb="is" if len(others) == 1 else "are")
            if others else "")
    template = STILL_EMULATED.get(remedy)
    if template is None:
        return ""
    return template.format(platform=platform_text, emulated=" (under QEMU)" if was_emulated else "")


def neutralise(text: str) -> str:
    """Log text is the maintainer's evidence, not ours to trust: no @-mentions, no HTML comments."""
    text = re.sub(r"(?<![\w@./+-])@(?=[A-Za-z0-9])", "@\u200b", text)
    return text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def _fence(lines: list[str]) -> str:
    longest = max((len(m) for line in lines for m in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def duration(seconds: float) -> str:
    return f"{round(seconds)} s" if seconds < 90 else f"{round(seconds / 60)} min"


def timing(finding: Finding) -> str | None:
    """How long the failing leg ran against the others, where the log's timestamps show it."""
    legs = getattr(finding, "legs", None) or {}
    if finding.platform not in legs or len(legs) < 2 or legs[finding.platform] < TIMING_WORTH:
        return None
    others = [TIMING_OTHER.format(platform=f"`{p}`", ran=duration(s))
              for p, s in sorted(legs.items()) if p != finding.platform]
    return TIMING.format(failed=f"`{finding.platform}`", ran=duration(legs[finding.platform]),
                         others="; ".join(others))


def where(finding: Finding, location_why: str) -> str:
    leg = f"The `{finding.platform}` build" if finding.platform else "The build"
    step = step_label(finding.step)
    return f"{leg} failed" + (f" at `{step}`" if step else "") + f". {LOCATED.format(why=location_why).strip()}"


def explanation(findings: list[Finding], remedy: str, summaries: list[str], notes: list[str],
                next_remedy: str | None, location_why: str, passed_over: dict[str, str] | None = None,
                emulated: list[str] | None = None) -> str:
    primary = findings[0]
    signature = SIGNATURES[primary.signature]
    excerpt = [neutralise(line) for line in primary.excerpt]
    parts = [
        WHAT_FAILED.format(where=where(primary, location_why), signature=primary.signature,
                           title=signature.title, meaning=signature.meaning),
        EVIDENCE.format(line=primary.line, file=f" of {primary.file}" if primary.file else "",
                        fence=_fence(excerpt), excerpt="\n".join(excerpt)),
    ]
    if timing(primary):
        parts.append(timing(primary))
    if len(findings) > 1:
        parts.append(ALSO.format(others=", ".join(
            f"`{f.signature}`" + (f" ({f.platform})" if f.platform else "") + f" at line {f.line}"
            for f in findings[1:])))
    info = REMEDY_INFO[remedy]
    parts.append(WHY.format(title=info.title, remedy=remedy, why=linkify(info.why)))
    if info.evidence:
        parts.append(WHY_EVIDENCE.format(evidence=linkify("; ".join(info.evidence))))
    if passed_over:
        parts.append(PASSED_OVER.format(items="; ".join(f"`{r}` ({why})" for r, why in passed_over.items())))
    parts.append(CHANGED.format(lines="\n".join(f"- {s}" for s in summaries)))
    if notes:
        parts.append(RISKS.format(lines="\n".join(f"- {linkify(n)}" for n in notes)))
    parts.append(VERIFY.format(platform=primary.platform or "multi-platform",
                               step=step_label(primary.step) or "the failing step"))
    after = still_emulated(remedy, primary.platform, emulated, is_emulated(primary))
    if next_remedy:
        nxt = REMEDY_INFO[next_remedy]
        text = NEXT_REMEDY.format(title=nxt.title, remedy=next_remedy, why=linkify(nxt.why))
    else:
        text = NO_NEXT
    parts.append(NEXT.format(text=f"{after} {text}" if after else text))
    return "\n".join(parts)
