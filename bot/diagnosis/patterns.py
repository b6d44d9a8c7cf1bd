"""The prefilter's patterns: what the multi-pattern matcher looks for in the raw bytes of a log.

Kept apart from the rules (``rules.py``, which compiles dozens of regular expressions when it
is imported) so that the scan of a log file can start before the rules are loaded
(``nativescan``). Every phrase a rule needs must be reachable through one of these
(``tests/test_rules.py`` checks).
"""

# Prefilter patterns, in hyperscan/re syntax over raw bytes. No pattern may span a newline.
HEADER_PATTERN = rb"#[0-9]+ \["  # buildx step header: frequent, so the engine has a fast path
STRUCTURE_PATTERNS = [
    rb"> \[",  # error summary
    rb"=> ERROR \[",  # tty progress error
    rb"Step [0-9]+/[0-9]+ : |STEP [0-9]+/[0-9]+: ",  # legacy builder, buildah/podman
    rb"did not complete successfully|executor failed running|returned a non-zero code",
    rb"buildx failed with|failed to solve",
    rb"Platforms: |Image: |Architecture: |RUNNER_ARCH|Linux \((arm|ARM|x64|X64)",  # what the runner is
    rb"does not match the detected host platform",  # the legacy builder's emulation warning
]
SIGNATURE_PATTERNS = [
    rb"uncaught target signal|QEMU internal SIG|qemu[a-z0-9_-]*: (fatal|unhandled)",
    rb"binfmt-[A-Z]*: |buildkit_qemu_emulator",
    rb"internal compiler error|SIGSEGV: invalid memory reference|SIGILL: illegal instruction",
    rb"Illegal instruction|Segmentation fault|Trace/breakpoint trap|exit status 1[0-9][0-9]",
    rb"SIGILL|SIGSEGV|SIGTRAP|Fatal Python error",
    rb"exec format error|Exec format error",
    rb"heap out of memory|Reached heap limit|Ineffective mark-compacts|Last few GCs|JS stacktrace",
    rb"allocate enough memory|Out of memory allocating|Value too large for defined data type",
    rb"docker driver|exporting manifest lists|for private repositories",
    rb"maximum execution time|The operation was canceled|has timed out after",
    rb"ERR_PNPM_|ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|ERR_SOCKET_TIMEOUT|EAI_AGAIN",
    rb"socket hang up|Socket timeout|before secure TLS|trouble with your network connection",
    rb"npm (ERR!|error) network|execve: No such file|lsb_release|error 127",
    rb"Error while loading |dpkg: error processing|Sub-process /usr/bin/dpkg returned",
]

# What a log file is scanned for: step headers are looked up afterwards (``headers``).
FILE_PATTERNS = STRUCTURE_PATTERNS + SIGNATURE_PATTERNS
