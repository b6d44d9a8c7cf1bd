"""What a remedy sees (``Situation``) and what it gives back (``Change``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..config import Config
from ..diagnosis import Finding
from ..dockerfile.model import Dockerfile, Instruction
from ..dockerfile.model import parse as parse_dockerfile
from ..workflows.model import Build, Workflow


class Decline(Exception):
    """This remedy does not apply here; the message says why, for the maintainer."""


@dataclass
class Change:
    remedy: str
    files: dict[str, str]  # path -> new content
    summary: list[str]  # what changed, one line each, for the PR body
    notes: list[str] = field(default_factory=list)  # risks and things to check
    emulated: list[str] | None = None  # platforms still built under QEMU after it (None: as before)


@dataclass
class Situation:
    """The failure and the files it concerns, as the planner located them."""

    finding: Finding
    findings: list[Finding]
    config: Config
    private: bool = False
    ghes: bool = False  # the repository is on GitHub Enterprise Server (no hosted Arm runners)
    workflow: Workflow | None = None
    build: Build | None = None
    build_ordinal: int = 0  # which build step of its job (steps may move as edits add others)
    dockerfile: Dockerfile | None = None
    instruction: Instruction | None = None
    repo_files: frozenset[str] = frozenset()
    # Every Dockerfile of the repository (path -> text): whether one build uses another's image.
    dockerfiles: dict[str, str] = field(default_factory=dict)
    bake_files: dict[str, str] = field(default_factory=dict)  # path -> text: what bake-action steps read

    @property
    def platform(self) -> str | None:
        return self.finding.platform

    def require_workflow(self) -> tuple[Workflow, Build]:
        if self.workflow is None or self.build is None:
            raise Decline("no workflow step building this image was found")
        return self.workflow, self.build

    def require_instruction(self) -> tuple[Dockerfile, Instruction]:
        if self.dockerfile is None:
            raise Decline("the Dockerfile of the failing build was not found")
        if self.instruction is None:
            step = self.finding.step or {}
            shown = step.get("instruction") or "the failing step"
            raise Decline(f"`{shown}` from the log was not found in {self.dockerfile.path}")
        return self.dockerfile, self.instruction

    def updated(self, files: dict[str, str]) -> "Situation":
        """The same situation after a change: files re-parsed, the build and step found again."""
        situation = replace(self)
        if self.dockerfile is not None and self.dockerfile.path in files:
            df = parse_dockerfile(self.dockerfile.path, files[self.dockerfile.path])
            situation.dockerfile = df
            if self.instruction is not None:
                # Edits insert lines before or inside the failing instruction, never reorder.
                same = [i for i in (s for st in df.stages for s in st.instructions)
                        if i.cmd == self.instruction.cmd and i.stage == self.instruction.stage]
                old = [i for i in (s for st in self.dockerfile.stages for s in st.instructions)
                       if i.cmd == self.instruction.cmd and i.stage == self.instruction.stage]
                situation.instruction = same[old.index(self.instruction)] if len(same) == len(old) else None
        if self.workflow is not None and self.workflow.path in files:
            workflow = Workflow.parse(self.workflow.path, files[self.workflow.path])
            situation.workflow = workflow
            in_job = [b for b in workflow.builds if b.job_id == self.build.job_id]
            situation.build = in_job[self.build_ordinal] if self.build_ordinal < len(in_job) else None
        return situation
