"""Human-readable and JSON renderings of findings (the ``diagnose`` command's output)."""

from __future__ import annotations


from .catalogue import SIGNATURES
from .engine import Finding

NO_FINDING = "{file}: no known multi-platform build failure in this log; nothing to fix."
FINDING_HEADLINE = "{file}: {signature} - {title}"


def step_label(step: dict | None) -> str | None:
    if not step:
        return None
    stage, instruction = step.get("stage"), step.get("instruction")
    if stage and instruction:
        return f"[{stage}] {instruction}"
    return instruction or (f"[{stage}]" if stage else None)


def render_text(file: str, findings: list[Finding]) -> str:
    if not findings:
        return NO_FINDING.format(file=file)
    primary, others = findings[0], findings[1:]
    signature = SIGNATURES[primary.signature]
    lines = [FINDING_HEADLINE.format(file=file, signature=primary.signature, title=signature.title)]
    rows = [
        ("platform", primary.platform or "not shown in the log"),
        ("step", step_label(primary.step) or "not shown in the log"),
        ("line", str(primary.line)),
        ("why", signature.meaning),
    ]
    lines += [f"  {name:<9} {value}" for name, value in rows]
    lines.append("  evidence")
    lines += [f"    | {text}" for text in primary.excerpt]
    for other in others:
        where = f" on {other.platform}" if other.platform else ""
        lines.append(f"  also      {other.signature}{where} (line {other.line}): "
                     f"{SIGNATURES[other.signature].title}")
    return "\n".join(lines)


def render_json(findings: list[Finding]) -> str:
    import json

    return json.dumps({"findings": [f.to_json() for f in findings]}, indent=2, ensure_ascii=False)
