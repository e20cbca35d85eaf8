"""The `shopcast` command: serve, demo, worker, db upgrade, user add, token, catalog import, giveaway verify."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Never

import orjson
from pydantic import TypeAdapter, ValidationError

from shopcast import demo as demo_data
from shopcast import demo_history
from shopcast.accounts import service as accounts
from shopcast.accounts.schemas import Email, Slug
from shopcast.catalog import feed
from shopcast.catalog.schemas import ImportIn
from shopcast.contests import draw
from shopcast.core import migrate
from shopcast.core.clock import SystemClock
from shopcast.core.db import Database, create_engine
from shopcast.core.errors import ShopcastError
from shopcast.core.security import Role, TokenSigner
from shopcast.core.settings import Settings
from shopcast.outbox.senders import outbox_worker
from shopcast.supervisor import Supervisor, WorkersFailed


class CliError(Exception):
    """A problem to report in one line, with a non-zero exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Never:
        # One line with the reason; `--help` has the rest.
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="shopcast", description="Shopcast, the self-hostable live-commerce backend.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, required=True)

    serve = commands.add_parser("serve", help="migrate the database, then serve HTTP")
    demo = commands.add_parser("demo", help="serve with a demo brand, show and staff accounts")
    for sub in (serve, demo):
        sub.add_argument("--host", help="address to listen on (default: SHOPCAST_HOST or 127.0.0.1)")
        sub.add_argument("--port", type=int, help="port to listen on (default: SHOPCAST_PORT or 8080)")
        sub.add_argument(
            "--workers",
            type=_positive,
            metavar="N",
            help="app processes sharing the port (default: SHOPCAST_WORKERS, else "
            + ("one per core with SHOPCAST_REDIS_URL, one without)" if sub is serve else "one)"),
        )

    commands.add_parser(
        "worker", help="send the outbox (emails, webhooks) from this process until stopped (SIGTERM, Ctrl+C)"
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser, required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration")

    user = commands.add_parser("user", help="staff accounts")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", parser_class=_Parser, required=True)
    add = user_commands.add_parser("add", help="create a staff user (or reset their password) with a role in a brand")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=["manager", "host", "moderator"])
    add.add_argument("--password", required=True, help="at least 8 characters")
    add.add_argument("--brand", help="brand slug; created if new (default: the only brand)")
    add.add_argument("--brand-name", help="display name when the brand is created")
    add.add_argument("--name", help="display name of the user")

    token = commands.add_parser("token", help="print a bearer token for a staff user, for scripts")
    token.add_argument("--email", required=True)

    catalog = commands.add_parser("catalog", help="the brands' products")
    catalog_commands = catalog.add_subparsers(
        dest="catalog_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    feed = catalog_commands.add_parser(
        "import", help="import a product feed (CSV or JSON, docs/operations.md); bad rows are listed, exit 1"
    )
    feed.add_argument("file", metavar="FILE", help="the feed: .csv or .json")
    feed.add_argument("--brand", required=True, help="brand slug")
    feed.add_argument("--format", choices=["csv", "json"], help="default: from the file's extension")

    giveaway = commands.add_parser("giveaway", help="giveaways' draws")
    giveaway_commands = giveaway.add_subparsers(
        dest="giveaway_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    verify = giveaway_commands.add_parser(
        "verify", help="check a draw's proof offline (from GET /api/v1/public/giveaways/{id}/proof); exit 1 if not"
    )
    verify.add_argument("--proof", required=True, metavar="FILE", help="the proof, as JSON")
    return parser


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of processes (1 or more)")
    return int(value)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        if args.command == "giveaway":  # offline: no settings, no database
            return _verify_proof(Path(args.proof))
        settings = Settings()
        if args.command == "demo":
            settings = demo_settings(settings)
        if args.command in ("serve", "demo"):
            return _serve(settings, args)
        if args.command == "worker":
            return asyncio.run(_work(settings))
        return asyncio.run(_run(settings, args))
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"shopcast: setting SHOPCAST_{str(first['loc'][0]).upper()}: {first['msg']}", file=sys.stderr)
    except (CliError, ShopcastError, WorkersFailed) as exc:
        print(f"shopcast: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"shopcast: {exc.strerror or exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


DEMO_SETTINGS = {"webhooks_allow_http": True, "webhooks_allow_private": True}


def demo_settings(settings: Settings) -> Settings:
    """`shopcast demo` runs on one machine: webhooks may go to http:// and to this machine or its network
    (a receiver tried out locally), unless the environment says otherwise."""
    return settings.model_copy(update={k: v for k, v in DEMO_SETTINGS.items() if k not in settings.model_fields_set})


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(create_engine(settings.effective_database_url))
    try:
        await _migrate(database)
        if args.command == "db":
            print("shopcast: database is up to date")
        elif args.command == "user":
            await _add_user(database, args, SystemClock().now())
        elif args.command == "token":
            print(await _token(database, settings, args.email))
        elif args.command == "catalog":
            return await _import_catalog(database, args, SystemClock().now())
        return 0
    finally:
        await database.close()


async def _work(settings: Settings) -> int:
    """Send the outbox until SIGTERM or SIGINT; sends in flight then finish, or are given back."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(create_engine(settings.effective_database_url))
    try:
        await _migrate(database)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        worker = outbox_worker(settings, database, SystemClock())
        worker.start()
        print(f"shopcast: worker {worker.name} is sending the outbox (Ctrl+C to stop)", flush=True)
        await stop.wait()
        await worker.stop()
        print("shopcast: worker stopped", flush=True)
        return 0
    finally:
        await database.close()


async def _migrate(database: Database) -> None:
    try:
        await migrate.upgrade(database.engine)
    except (OSError, ConnectionError) as exc:
        raise CliError(f"cannot reach the database: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("asyncpg", "sqlalchemy")):
            raise CliError(f"cannot migrate the database: {str(exc).splitlines()[0]}") from exc
        raise


async def _add_user(database: Database, args: argparse.Namespace, now: datetime) -> None:
    try:
        email = TypeAdapter(Email).validate_python(args.email)
        slug = TypeAdapter(Slug).validate_python(args.brand) if args.brand else None
    except ValidationError as exc:
        raise CliError(f"{exc.errors()[0]['msg']}: {exc.errors()[0]['input']!r}") from None
    async with database.transaction() as session:
        if slug is None:
            brands = await accounts.list_brands(session)
            if len(brands) != 1:
                raise CliError("pass --brand SLUG (there is no brand yet, or several)")
            brand = brands[0]
        else:
            brand = await accounts.create_brand(session, slug=slug, name=args.brand_name or slug, now=now)
        await accounts.add_user(
            session,
            email=email,
            password=args.password,
            role=Role(args.role),
            brand=brand,
            now=now,
            display_name=args.name,
        )
    print(f"shopcast: {email} is {args.role} of {brand.slug}")


async def _token(database: Database, settings: Settings, email: str) -> str:
    async with database.transaction() as session:
        user = await accounts.find_user(session, email=email)
    signer = TokenSigner(
        settings.signing_key(),
        clock=SystemClock(),
        user_ttl=timedelta(minutes=settings.token_ttl_minutes),
        guest_ttl=timedelta(minutes=settings.guest_token_ttl_minutes),
    )
    return signer.issue("user", user.id, user.display_name).token


async def _import_catalog(database: Database, args: argparse.Namespace, now: datetime) -> int:
    path = Path(args.file)
    fmt = args.format or path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise CliError(f"{path}: say --format csv or --format json (the extension does not tell)")
    try:
        data = ImportIn(format=fmt, content=await asyncio.to_thread(path.read_text, encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except ValidationError:
        raise CliError(f"{path}: the file is empty") from None

    def progress(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            print(f"shopcast: {done}/{total} products", file=sys.stderr, flush=True)

    async with database.transaction() as session:
        brand = await accounts.get_brand(session, slug=args.brand)
        report = await feed.import_rows(
            session, brand=brand, rows=feed.read_rows(data), now=now, bus=None, progress=progress
        )
    print(
        f"shopcast: {report.rows} rows: {report.created} products created, {report.updated} updated, "
        f"{report.variants} variants; {len(report.errors)} bad rows"
    )
    for error in report.errors:
        print(f"  line {error.line}: {error.reason}", file=sys.stderr)
    return 1 if report.errors else 0


def _verify_proof(path: Path) -> int:
    try:
        proof = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise CliError(f"{path}: not JSON ({exc})") from None
    verdict = draw.verify(proof)
    giveaway = proof.get("giveaway_id", "?") if isinstance(proof, dict) else "?"
    print(f"giveaway {giveaway}, {draw.ALGORITHM}")
    for line in verdict.checked:
        print(f"  ok        {line}")
    for line in verdict.problems:
        print(f"  MISMATCH  {line}")
    if verdict.ok:
        print("the draw matches its proof: the winners follow from the committed seed and the eligible entries")
        return 0
    print("the draw does NOT match its proof", file=sys.stderr)
    return 1


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from shopcast.web import server
    from shopcast.web.event_loop import new_event_loop

    new_event_loop(settings.event_loop).close()  # a loop that cannot be had is said here, once, in one line
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    workers = _workers(settings, args)
    demo = asyncio.run(_prepare(settings, demo=args.command == "demo"))  # once, before any worker starts
    # Links in emails point here when SHOPCAST_PUBLIC_URL is not set (`make run`).
    settings = settings.model_copy(update={"host": host, "port": port})
    base = settings.site_url

    def ready(*_: object) -> None:
        print(f"\nShopcast is running at {base}/", flush=True)
        if workers > 1:
            print(f"  workers        {workers} processes on port {port}", flush=True)
        print(f"  manager page   {base}/manage", flush=True)
        print(f"  health         {base}/healthz", flush=True)
        print(f"  API document   {base}/api/openapi.json", flush=True)
        if demo is not None:
            print(f"  calendar feed  {base}/api/v1/public/shows/{demo.show_id}/calendar.ics", flush=True)
            print(f"  episodes       {base}/api/v1/public/brands/{demo.brand_slug}/episodes", flush=True)
            print("\nDemo logins (brand maison-lumiere):", flush=True)
            for email, password, role in demo.logins:
                print(f"  {role:<10} {email}  /  {password}", flush=True)
        if settings.public_url is None and host not in ("127.0.0.1", "localhost", "::1"):
            # Without it only pages opened on this machine's loopback address may call the API.
            print("\nOpened from another machine? Set SHOPCAST_PUBLIC_URL to the address people open.", flush=True)
        print("\nPress Ctrl+C to stop.", flush=True)

    if workers == 1:
        server.serve(settings, server.listening_socket(host, port), on_ready=ready)
        return 0
    given = {"host": host, "port": port}
    if args.command == "demo":
        given.update({name: getattr(settings, name) for name in DEMO_SETTINGS})  # as demo_settings left them

    def worker_settings(index: int) -> dict[str, object]:
        # The outbox is sent from the first worker only: one poller, one sweeper per machine rather
        # than one per core (several would be safe, only wasteful).
        return {**given, **({} if index == 0 else {"outbox_worker": False})}

    sockets = [server.listening_socket(host, port, shared=True) for _ in range(workers)]
    return Supervisor(sockets, worker_settings, on_ready=ready).run()


def _workers(settings: Settings, args: argparse.Namespace) -> int:
    """How many app processes: as asked, else one per core when they can share through Redis."""
    asked = args.workers or settings.workers
    if asked is not None:
        if asked > 1 and settings.redis_url is None:
            raise CliError(
                f"{asked} workers need SHOPCAST_REDIS_URL: the processes share rooms, viewer counts and "
                "sessions through Redis (see docs/operations.md)"
            )
        return asked
    if args.command == "demo" or settings.redis_url is None:
        return 1
    return len(os.sched_getaffinity(0))


async def _prepare(settings: Settings, *, demo: bool) -> demo_data.Demo | None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(create_engine(settings.effective_database_url))
    try:
        await _migrate(database)
        if not demo:
            return None
        now = SystemClock().now()
        async with database.transaction() as session:
            seeded = await demo_data.seed(session, now=now, weeks=settings.schedule_weeks)
            await demo_history.seed_last_week(session, now=now)  # an aired episode, for its report
        return seeded
    finally:
        await database.close()
