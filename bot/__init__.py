"""docker-build-fixer: diagnose failed multi-platform Docker builds and propose the fix."""

__version__ = "0.1.0"
