"""Failed jobs that are not multi-platform build failures give no finding, so the app stays
silent: test and lint failures, a scan step failing after a good build with QEMU noise, and
"Illegal instruction" in test names."""

import pytest

from bot.diagnosis import diagnose_bytes

from .joblogs import wrap

NEGATIVES = {
    "jest-unit-test-failure": """\
##[group]Run npm test
> app@1.0.0 test
> jest --ci
FAIL src/cart/total.test.ts
  ● total › applies the discount
    expect(received).toBe(expected) // Object.is equality
    Expected: 90
    Received: 100
Tests:       1 failed, 211 passed, 212 total
##[error]Process completed with exit code 1.
""",
    "eslint-failure": """\
##[group]Run npm run lint
/home/runner/work/app/app/src/index.ts
  12:7  error  'unused' is assigned a value but never used  @typescript-eslint/no-unused-vars
✖ 1 problem (1 error, 0 warnings)
##[error]Process completed with exit code 1.
""",
    "good-build-with-qemu-noise-then-scan-fails": """\
#14 [linux/arm64 build 4/5] RUN npm ci
#14 3.120 Unknown QEMU_IFLA_INFO_KIND ipip
#14 52.31 added 812 packages in 49s
#14 DONE 53.0s
#20 exporting to image
#20 pushing layers 4.1s done
#20 DONE 9.8s
WARNING: current commit information was not captured by the build: unknown/unknown
##[group]Run aquasecurity/trivy-action@0.28.0
ghcr.io/acme/app:main (debian 12.8)
Total: 3 (UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 2, CRITICAL: 1)
##[error]Process completed with exit code 1.
""",
    "illegal-instruction-in-test-names": """\
#31 [linux/arm64 test 3/3] RUN npm test
#31 12.01 PASS src/cpu/decoder.test.ts
#31 12.02   ✓ reports Illegal instruction for undefined opcodes (3 ms)
#31 12.02   ✓ maps SIGILL to "Illegal instruction" (1 ms)
#31 12.03   ✓ handles Segmentation fault reports from the child (2 ms)
#31 12.09 test_illegal_instruction_raises PASSED
#31 12.30 FAIL src/cpu/flags.test.ts
#31 12.31   ✕ sets the carry flag (4 ms)
#31 ERROR: process "/bin/sh -c npm test" did not complete successfully: exit code: 1
""",
    "registry-auth-failure": """\
#22 pushing layers
#22 ERROR: failed to push ghcr.io/acme/app:main: unexpected status from POST request: 403 Forbidden
ERROR: failed to solve: failed to push ghcr.io/acme/app:main: 403 Forbidden
##[error]buildx failed with: ERROR: failed to solve: failed to push ghcr.io/acme/app:main: 403 Forbidden
""",
    "base-image-without-the-platform": """\
#4 [linux/riscv64 internal] load metadata for docker.io/library/node:20
ERROR: failed to solve: node:20: no match for platform in manifest sha256:9a0b: not found
##[error]buildx failed with: ERROR: failed to solve: node:20: no match for platform in manifest
""",
    "cache-key-error": """\
#3 importing cache manifest from gha:12931412
#3 ERROR: failed to parse error response 400: <h2>Our services aren't available right now</h2>
ERROR: failed to solve: failed to compute cache key: "/app/dist" not found: not found
""",
    "native-oom-kill": """\
#12 [build 5/6] RUN npm run build
#12 91.2 > vite build
#12 ERROR: process "/bin/sh -c npm run build" did not complete successfully: exit code: 137
""",
    "network-retries-that-recovered-then-tests-failed": """\
#14 [linux/arm64 build 4/5] RUN yarn install --frozen-lockfile
#14 40.1 info There appears to be trouble with your network connection. Retrying...
#14 88.0 Done in 87.12s.
#14 DONE 88.4s
##[group]Run yarn test
FAIL src/app.test.js
##[error]Process completed with exit code 1.
""",
}


@pytest.mark.parametrize("name", NEGATIVES)
def test_no_finding(name):
    assert diagnose_bytes(NEGATIVES[name].encode()) == []


@pytest.mark.parametrize("name", NEGATIVES)
def test_no_finding_in_a_real_job_log(name):
    data, _ = wrap(NEGATIVES[name], seed=11)
    assert diagnose_bytes(data) == []
