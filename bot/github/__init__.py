"""The GitHub layer: the only code that talks to GitHub. Thin: requests in, data out."""

# The REST API version the app and the CLI are written against, sent with every request: GitHub
# answers an unversioned request as 2022-11-28, and a newer version can change fields the code
# reads, so the version moves only with the code. 2026-03-10's breaking changes (the OpenAPI
# description's x-github-breaking-changes) touch no call made here.
API_VERSION = "2026-03-10"
