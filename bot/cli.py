"""The command line (SPEC section 6).

    docker-build-fixer diagnose LOG... [--json]
    docker-build-fixer fix [REPO_DIR] --log LOG [--workflow PATH] [--remedy ID] [--skip ID]...
                           [--policy evidence|minimal] [--private] [--ghes] [--write] [--json]
    docker-build-fixer versions [--refresh] [--file PATH]

Exit codes: 0 done; 2 bad input (one line on stderr, no traceback); 3 (fix) nothing to fix or no
remedy applies, with the reason; 1 an internal error (one line, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys

from .diagnosis import diagnose_file
from .diagnosis.report import render_json, render_text

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_NO_FIX = 0, 1, 2, 3
PROG = "docker-build-fixer"


class CliError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


def _readable(path: str) -> str:
    if os.path.isdir(path):
        raise CliError(f"cannot read {path}: it is a directory, not a log file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    return path


def cmd_diagnose(args: argparse.Namespace) -> int:
    paths = [_readable(p) for p in args.logs]
    results = []
    for path in paths:
        try:
            results.append((path, diagnose_file(path)))
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    if args.json:
        print(render_json([f for _, findings in results for f in findings]))
    else:
        print("\n\n".join(render_text(path, findings) for path, findings in results))
    return EXIT_OK


FIX_HEADLINE = "{signature}{where}: {remedy}{companions}"
FIX_WROTE = "wrote {path}"
FIX_NEXT = "If this does not cure it, next: {next}"


def cmd_fix(args: argparse.Namespace) -> int:
    import json

    # Imported here so that `diagnose` starts without the fix engine's parsers.
    from .config import ConfigError, parse_config
    from .fix import FixRequest, NoFix, fix
    from .locate import LocateError
    from .repo import RepoError, read_repo, write_files

    log = _readable(args.log)
    try:
        repo = read_repo(args.repo)
        config = parse_config(repo.config)
        findings = diagnose_file(log)
        request = FixRequest(
            findings=findings, workflows=repo.workflows, dockerfiles=repo.dockerfiles, config=config,
            repo_files=repo.paths, bake_files=repo.bake_files, private=args.private, ghes=args.ghes, remedy=args.remedy, skip=tuple(args.skip),
            policy=args.policy, workflow=args.workflow,
        )
        result = fix(request)
    except (RepoError, ConfigError, LocateError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot read the repository: {exc.strerror or exc}") from None
    except NoFix as exc:
        if args.json:
            print(json.dumps({"signature": findings[0].signature if findings else None, "remedy": None,
                              "companions": [], "files": {}, "diff": "", "explanation": str(exc)}, indent=2))
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_NO_FIX
    if args.write:
        write_files(args.repo, result.files)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return EXIT_OK
    primary = findings[0]
    print(FIX_HEADLINE.format(
        signature=primary.signature, where=f" on {primary.platform}" if primary.platform else "",
        remedy=result.remedy,
        companions=f" (with {', '.join(result.companions)})" if result.companions else ""))
    if args.write:
        for path in sorted(result.files):
            print(FIX_WROTE.format(path=path))
    else:
        print(result.diff, end="")
    if result.next_remedy:
        print(FIX_NEXT.format(next=result.next_remedy))
    return EXIT_OK


VERSIONS_CHANGED = "{name}: {old} -> {new} ({sha})"
VERSIONS_SAME = "every action is at its major's latest release; {path} unchanged"
VERSIONS_WROTE = "wrote {path}"


def cmd_versions(args: argparse.Namespace) -> int:
    import json

    from . import versions

    path = args.file or str(versions.data_path())
    try:
        with open(path, encoding="utf-8") as handle:
            source = json.load(handle)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(f"{path} is not JSON: {exc}") from None
    bad = versions.problems(source) if isinstance(source, dict) and "actions" in source else ["not a versions file"]
    if bad:
        raise CliError(f"{path}: " + "; ".join(bad[:3]))
    if not args.refresh:
        print(versions.table(source), end="")
        return EXIT_OK
    from .github.tags import RefreshError, TagsClient, refreshed

    client = TagsClient(os.environ.get("GITHUB_API_URL") or "https://api.github.com",
                        os.environ.get("GITHUB_TOKEN") or None)
    try:
        new = refreshed(source, client)
    except RefreshError as exc:
        raise CliError(f"versions not refreshed, {path} unchanged: {exc}") from None
    old_pins, new_pins = versions.pins(source), versions.pins(new)
    changed = [n for n in new_pins if new_pins[n] != old_pins[n]]
    for name in changed:
        print(VERSIONS_CHANGED.format(name=name, old=old_pins[name].version, new=new_pins[name].version,
                                      sha=new_pins[name].sha))
    if not changed:
        print(VERSIONS_SAME.format(path=path))
        return EXIT_OK
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(versions.dump(new))
    print(VERSIONS_WROTE.format(path=path))
    return EXIT_OK


def serve_settings(environ: dict[str, str], url: str | None = None):
    """The server's settings: the environment, with the env file the setup page writes
    (ENV_FILE, default .env) filling in what it does not set; --url overrides PUBLIC_URL."""
    from .app import envfile
    from .settings import Settings, SettingsError

    env_file = environ.get("ENV_FILE", ".env")
    try:
        merged = envfile.merged_environment(env_file, environ)
    except (OSError, ValueError) as exc:
        raise CliError(f"{env_file} cannot be read: {exc}") from None
    if url:
        merged["PUBLIC_URL"] = url
    try:
        return Settings.from_env(merged)
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    from .app.queue import QueueUnavailable
    from .app.server import serve

    try:
        serve(serve_settings(dict(os.environ), args.url))
    except QueueUnavailable as exc:
        raise CliError(str(exc)) from None
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    settings = serve_settings(dict(os.environ))  # the same environment and env file as serve
    if settings.database_url is None:
        raise CliError("the worker needs DATABASE_URL=postgresql://...; "
                       "with the embedded SQLite store, `serve` runs the jobs itself")
    if not settings.configured:
        raise CliError("the worker needs the app's credentials (GITHUB_APP_ID, GITHUB_PRIVATE_KEY, "
                       "GITHUB_WEBHOOK_SECRET): register the app first (the setup page of `serve`)")
    from .app.queue import QueueUnavailable
    from .app.worker import work

    try:
        work(settings)
    except QueueUnavailable as exc:
        raise CliError(str(exc)) from None
    return EXIT_OK


def build_parser(remedy_ids: list[str] | None = None) -> argparse.ArgumentParser:
    """``remedy_ids``: the choices of ``fix --remedy``/``--skip``; ``main`` leaves them out for
    ``diagnose``, which then starts without importing the remedies (and their parsers)."""
    if remedy_ids is None:
        from .remedies.catalogue import REMEDY_INFO

        remedy_ids = sorted(REMEDY_INFO)
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Diagnose failed multi-platform Docker builds from GitHub Actions job logs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    diagnose = sub.add_parser("diagnose", help="say why a build failed, from its job log(s)")
    diagnose.add_argument("logs", nargs="+", metavar="LOG", help="a GitHub Actions job log file")
    diagnose.add_argument("--json", action="store_true", help="print findings as JSON")
    diagnose.set_defaults(handler=cmd_diagnose)

    fixer = sub.add_parser("fix", help="propose the change that fixes a failed build")
    fixer.add_argument("repo", nargs="?", default=".", metavar="REPO_DIR", help="the repository checkout")
    fixer.add_argument("--log", required=True, help="the failed job's log")
    fixer.add_argument("--workflow", help="the workflow that failed (default: found from the log)")
    fixer.add_argument("--remedy", choices=remedy_ids, help="apply this remedy")
    fixer.add_argument("--skip", action="append", default=[], choices=remedy_ids, metavar="ID",
                       help="a remedy already tried or declined (repeatable)")
    fixer.add_argument("--policy", choices=["evidence", "minimal"], help="override the config's policy")
    fixer.add_argument("--private", action="store_true",
                       help="the repository is private (Arm runners are billed; the PR says so)")
    fixer.add_argument("--ghes", action="store_true",
                       help="the repository is on GitHub Enterprise Server (no hosted Arm runners unless the "
                            "config names one)")
    fixer.add_argument("--write", action="store_true", help="write the changed files")
    fixer.add_argument("--json", action="store_true", help="print the result as JSON")
    fixer.set_defaults(handler=cmd_fix)

    table = sub.add_parser("versions", help="the action versions the app writes (and refresh them from GitHub)")
    table.add_argument("--refresh", action="store_true",
                       help="rewrite the data file from GitHub's tags (GITHUB_API_URL, GITHUB_TOKEN)")
    table.add_argument("--file", help="the versions data file (default: the one in the package)")
    table.set_defaults(handler=cmd_versions)

    server = sub.add_parser("serve", help="run the GitHub App (settings from the environment)")
    server.add_argument("--url", help="this deployment's public URL, for the setup page (default: PUBLIC_URL)")
    server.set_defaults(handler=cmd_serve)
    worker = sub.add_parser("worker", help="run jobs from the PostgreSQL queue (needs DATABASE_URL)")
    worker.set_defaults(handler=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser([] if words[:1] == ["diagnose"] else None)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `docker-build-fixer diagnose big.log | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: one line that can be reported, not a traceback
        print(f"{PROG}: internal error ({type(exc).__name__}: {exc}); please report it with the log",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
