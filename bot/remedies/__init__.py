"""Remedies (SPEC section 4): each a pure edit with a precondition.

``REMEDIES`` maps each id to the function that applies it to a ``Situation``; a function
returns a ``Change`` or raises ``Decline`` with the reason it does not apply.
"""

from .base import Change, Decline, Situation
from .github_builder import github_builder
from .dockerfile import build_on_buildplatform, node_heap, package_manager_network
from .restructure import native_runners, platform_matrix
from .workflow import add_buildx, drop_platform, load_single_platform, pin_qemu, timeout_minutes

REMEDIES = {
    "build-on-buildplatform": build_on_buildplatform,
    "github-builder": github_builder,
    "native-runners": native_runners,
    "platform-matrix": platform_matrix,
    "pin-qemu": pin_qemu,
    "add-buildx": add_buildx,
    "load-single-platform": load_single_platform,
    "node-heap": node_heap,
    "package-manager-network": package_manager_network,
    "timeout-minutes": timeout_minutes,
    "drop-platform": drop_platform,
}

__all__ = ["Change", "Decline", "REMEDIES", "Situation"]
