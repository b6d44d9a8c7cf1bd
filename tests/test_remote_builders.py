"""A job whose multi-platform build runs on a remote builder with native machines (Depot, Docker
Build Cloud) beside a single-platform test build: an emulation failure on linux/arm64 is not
the test build's, and nothing of the workflow runs it under QEMU; declined with that reason."""

import pytest

from bot.fix import NoFix
from bot.workflows.model import Workflow
from bot.workflows.remote_builders import elsewhere

from .leg_shapes import TEST_THEN_DEPOT
from .repos import NODE_SITE, WF, run, sigill_log


def test_an_arm64_failure_beside_a_depot_build_is_declined_naming_it():
    with pytest.raises(NoFix, match=r"the linux/arm64 image of job `dockerize` is built by step `Build and push` "
                                    r"\(depot/build-push-action\) on Depot's native builders"):
        run({WF: TEST_THEN_DEPOT}, {"Dockerfile": NODE_SITE}, sigill_log())


def test_docker_build_cloud_is_a_native_remote_builder_too():
    text = TEST_THEN_DEPOT.replace("      - uses: docker/setup-buildx-action@v3\n",
                                  "      - uses: docker/setup-buildx-action@v3\n        with:\n          driver: cloud\n"
                                  "          endpoint: acme/builder\n")
    build = Workflow.parse(WF, text).builds[0]
    assert "on Docker Build Cloud's native builders" in elsewhere(build, "linux/arm64")


@pytest.mark.parametrize("platforms", ["linux/amd64,linux/s390x", None])
def test_a_build_that_is_its_own_or_a_platform_depot_emulates_is_not_declined_so(platforms):
    text = TEST_THEN_DEPOT if platforms is None else TEST_THEN_DEPOT.replace("linux/amd64, linux/arm64", platforms)
    build = Workflow.parse(WF, text).builds[0]
    if platforms is None:  # the located build itself builds arm64: its own emulation
        build.platforms = ["linux/amd64", "linux/arm64"]
        assert elsewhere(build, "linux/arm64") is None
    else:  # Depot does not build arm64 in this job
        assert elsewhere(build, "linux/arm64") is None
    assert elsewhere(build, "linux/riscv64") is None  # not a platform it builds natively
