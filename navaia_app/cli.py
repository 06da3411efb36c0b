"""Navaia's admin commands: `python -m navaia_app.cli --help`.

Imports stay inside the commands, so `--help` answers at once. Results are printed for the
person at the terminal (stdout; errors on stderr); logs go to stderr, warnings only unless
`--verbose` (the worker always logs at LOG_LEVEL).
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


def _setup_logging(verbose: bool) -> None:
    import logging

    import structlog

    from navaia_app.core.logging import configure_logging

    configure_logging()
    if not verbose:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
        logging.getLogger().setLevel(logging.WARNING)


def _database_not_ready(exc: Exception) -> int:
    from navaia_app.core.settings import get_settings

    print(f"error: the database is not ready ({str(getattr(exc, 'orig', exc)).splitlines()[0][:200]}).\n"
          f"Check DATABASE_URL ({_safe_url(get_settings().database_url)}) and run "
          "`python -m navaia_app.cli migrate`.", file=sys.stderr)
    return EXIT_FAILED


def _needs_database(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A command that reads or writes the database: one that is unreachable or not migrated is an error that
    says what to do (exit 1), not a traceback."""
    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        import sqlalchemy as sa

        try:
            return command(args)
        except sa.exc.SQLAlchemyError as exc:
            return _database_not_ready(exc)
    return run


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "unparseable URL"


def _read_password(given: str | None) -> str:
    if given is not None:
        return given
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Password: ")
    return sys.stdin.readline().rstrip("\n")


@_needs_database
def cmd_create_user(args: argparse.Namespace) -> int:
    from navaia_app.auth.service import create_user
    from navaia_app.core.db import session_scope
    from navaia_app.core.errors import DomainError

    password = _read_password(args.password)
    try:
        with session_scope() as session:
            user = create_user(session=session, email=args.email, password=password, name=args.name,
                               role=args.role)
            user_id, email, role = user.id, user.email, user.role
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for field, message in exc.errors.items():
            if message != exc.message:
                print(f"  {field}: {message}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"Created {role} {email} (user id {user_id}).")
    return EXIT_OK


@_needs_database
def cmd_seed_demo(args: argparse.Namespace) -> int:
    import navaia_app.models  # noqa: F401  (every table, so the ORM resolves each foreign key)
    from navaia_app.core.db import session_scope
    from navaia_app.demo import is_empty, seed_demo

    with session_scope() as session:
        if args.if_empty and not is_empty(session=session):
            print("The database already has customers or users; demo data not seeded.")
            return EXIT_OK
        report = seed_demo(session)
    print(report.summary())
    return EXIT_OK


@_needs_database
def cmd_migrate(args: argparse.Namespace) -> int:
    from navaia_app.core.migrations import upgrade_database
    from navaia_app.core.settings import get_settings

    url = get_settings().database_url
    upgrade_database(url, revision=args.revision)
    print(f"Database {_safe_url(url)} is at revision {args.revision}.")
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    """Exit 2 with the reason when the app would refuse to start (`make run` asks before anything else)."""
    from navaia_app.core.settings import ConfigError, get_settings

    try:
        get_settings().check_production()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as exc:  # pydantic's own validation (an unknown APP_ENV, a bad number): same answer
        print(f"error: the configuration is not valid: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print("The configuration can start the app.")
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    from navaia_app.core.queues import QUEUE_NAMES
    from navaia_app.jobs.worker import run_worker

    queues = [q.strip() for q in (args.queues or "").split(",") if q.strip()] or list(QUEUE_NAMES)
    return run_worker(burst=args.burst, queues=queues)


@_needs_database
def cmd_demo_admin(args: argparse.Namespace) -> int:
    """The demo login, only while the demo admin exists and still has the (public) demo password."""
    from sqlmodel import select

    from navaia_app.auth.models import User
    from navaia_app.auth.service import HASHER
    from navaia_app.core.db import session_scope
    from navaia_app.demo import DEMO_EMAIL, DEMO_PASSWORD

    with session_scope() as session:
        user = session.exec(select(User).where(User.email == DEMO_EMAIL)).first()
        usable = user is not None and user.is_active and HASHER.verify(DEMO_PASSWORD, user.password_hash)
    if usable:
        print(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
    else:
        print("No demo admin with the demo password (it was never created, or its password was changed).",
              file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m navaia_app.cli", description="Navaia admin commands. Settings come from the environment "
        "(DATABASE_URL, REDIS_URL, ...) or .env; see .env.example.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at LOG_LEVEL instead of warnings only")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = commands.add_parser("create-user", help="create a user who can sign in",
                            description="Create a user. Exits 2 when a rule refuses it (weak password, "
                            "email taken, ...). Without --password, it is read from the terminal or stdin.")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="at least 8 characters, not a common password")
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=("admin", "agent"), default="agent", help="default: agent")
    p.set_defaults(handler=cmd_create_user)

    p = commands.add_parser("seed-demo", help="add demo customers, tickets, bookings (and a demo admin)",
                            description="Add the demo data set. The demo admin is created only when there "
                            "are no users yet, and never with APP_ENV=prod.")
    p.add_argument("--if-empty", action="store_true", help="only when there are no customers and no users")
    p.set_defaults(handler=cmd_seed_demo)

    p = commands.add_parser("check-config", help="exit 2 with the reason when the app would refuse to start")
    p.set_defaults(handler=cmd_check_config)

    p = commands.add_parser("migrate", help="upgrade the database schema (alembic upgrade head)")
    p.add_argument("--revision", default="head", help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_migrate)

    p = commands.add_parser("worker", help="run the RQ job worker with its scheduler",
                            description="Serve the job queues with RQ's scheduler until SIGTERM/Ctrl-C. "
                            "Waits (and says so) while Redis is not answering.")
    p.add_argument("--burst", action="store_true", help="run what is queued and due, then exit")
    p.add_argument("--queues", metavar="Q1,Q2", help="serve only these queues (default: calls,default)")
    p.set_defaults(handler=cmd_worker)

    p = commands.add_parser("demo-admin", help="print the demo login if the demo admin still uses it")
    p.set_defaults(handler=cmd_demo_admin)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_REFUSED
    if handler not in (cmd_worker, cmd_check_config):  # check-config must answer even when settings do not load
        _setup_logging(args.verbose)
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
