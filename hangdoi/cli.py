"""The `hangdoi` command: serve, demo, db upgrade, create-admin, close-day, backup, restore, hardware,
simulate, province (a province server's links to its centres)."""
from __future__ import annotations

import logging
import os
import sys

import click
from sqlalchemy import select

from hangdoi.config import load_settings
from hangdoi.database import Database


def _settings_and_db():
    settings = load_settings()
    return settings, Database(settings.resolved_database_url())


def _external_projection(settings, db):
    """Changes made by the CLI reach live screens through Redis when several processes share it."""
    if not settings.redis_url:
        return None
    from flask_socketio import SocketIO

    from hangdoi.web.realtime.projection import Projection
    projection = Projection(SocketIO(message_queue=settings.redis_url, channel=settings.redis_channel))
    db.on_commit(projection)
    return projection


@click.group()
def main() -> None:
    """hangdoi — hệ thống xếp hàng lấy số / queue ticketing for public service centres."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    from hangdoi.schema import upgrade
    settings = load_settings()
    upgrade(settings.resolved_database_url())
    click.echo("database is up to date")


def _serve(host: str, port: int, upgrade_schema: bool = True) -> None:
    from hangdoi.schema import upgrade
    from hangdoi.serving import serve
    settings = load_settings()
    if upgrade_schema:
        upgrade(settings.resolved_database_url())
    click.echo(f"hangdoi serving on http://{host}:{port}/  (data: {settings.data_dir})")
    serve(settings, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-upgrade", is_flag=True, help="Do not migrate the schema at start.")
def serve(host: str, port: int, no_upgrade: bool) -> None:
    """Serve the kiosk, counters, displays, admin and API (migrating the schema first)."""
    _serve(host, port, upgrade_schema=not no_upgrade)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--catalogue", type=click.Choice(["small", "large"]), default="small", show_default=True,
              help="large: a commune's real size, 70 fields and 399 procedures at 12 counters.")
def demo(host: str, port: int, catalogue: str) -> None:
    """Create a demo centre on SQLite if there is no centre yet, print its accounts, then serve."""
    from hangdoi.fixtures.demo import demo_credentials, device_links, ensure_demo_centre
    from hangdoi.schema import upgrade
    settings, database = _settings_and_db()
    upgrade(settings.resolved_database_url())
    created = ensure_demo_centre(database, catalogue)
    links = device_links(database)
    database.dispose()
    click.echo("demo centre created" if created else "using the existing centre")
    click.echo("accounts (username / password):")
    for username, password in demo_credentials(catalogue):
        click.echo(f"{username} / {password}")
    click.echo(f"staff start here: http://{host}:{port}/")
    kinds = {"kiosk": "kiosk", "display": "lobby display", "tablet": "rating tablet"}
    for kind, name, path in links:
        click.echo(f"{kinds[kind]} “{name}”: http://{host}:{port}{path}")
    click.echo(f"counter terminal: http://{host}:{port}/counter")
    click.echo(f"manager's dashboard: http://{host}:{port}/admin   (lanhdao or admin)")
    click.echo(f"reports:             http://{host}:{port}/admin/reports")
    click.echo(f"settings:            http://{host}:{port}/admin/settings   (admin)")
    click.echo(f"printed tickets (PNG and ESC/POS bytes): {settings.data_dir / 'printed'}")
    _serve(host, port, upgrade_schema=False)


@main.command("create-admin")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--centre", "centre_id", type=click.IntRange(1), default=None,
              help="Id of the centre this admin looks after (default: the first).")
@click.option("--new-centre", default=None, metavar="NAME",
              help="Create another centre with this name on this installation, and make this its admin.")
@click.option("--address", default="", help="The new centre's address.")
@click.option("--province", is_flag=True, help="A province admin, who looks after every centre.")
@click.option("--centre-name", default="Trung tâm Phục vụ hành chính công",
              help="Name of the centre to create when there is none yet.")
def create_admin(username: str, full_name: str, password: str, centre_id: int | None, new_centre: str | None,
                 address: str, province: bool, centre_name: str) -> None:
    """Create an administrator account (and the centre, on a fresh installation or with --new-centre)."""
    from hangdoi.models import ADMIN, PROVINCE, Centre, Officer
    from hangdoi.schema import upgrade
    from hangdoi.services.auth import hash_password
    from hangdoi.services.catalogue import create_centre
    settings, database = _settings_and_db()
    upgrade(settings.resolved_database_url())
    if len(password) < 8:
        raise click.UsageError("the password needs at least 8 characters")
    if centre_id is not None and new_centre is not None:
        raise click.UsageError("give --centre or --new-centre, not both")
    with database.read() as s:
        first = s.scalars(select(Centre.id).order_by(Centre.id)).first()
        known = centre_id is None or s.get(Centre, centre_id) is not None
        taken = s.scalars(select(Officer.id).where(Officer.username == username)).first()
    if taken is not None:
        raise click.UsageError(f"username {username!r} exists already")
    if not known:
        raise click.UsageError(f"there is no centre {centre_id}")
    if new_centre is not None or first is None:
        centre_id = create_centre(database, {"name": new_centre or centre_name, "address": address})["centre"]
        click.echo(f"centre {centre_id} created: {new_centre or centre_name}")
    with database.write() as s:
        s.add(Officer(centre_id=centre_id or first, username=username, full_name=full_name,
                      role=PROVINCE if province else ADMIN, password_hash=hash_password(password), active=True))
    click.echo(f"{'province administrator' if province else 'administrator'} {username} created")


@main.group()
def province() -> None:
    """At a province server: the centres that push their timeline here (HANGDOI_PROVINCE_URL and
    HANGDOI_PROVINCE_KEY on each centre's machine)."""


@province.command("add-centre")
@click.argument("name")
@click.option("--area", default="", help="The district-era area the province sorts its centres by.")
def province_add_centre(name: str, area: str) -> None:
    """Link a centre; prints its key once (set it as HANGDOI_PROVINCE_KEY on the centre's machine)."""
    from hangdoi.schema import upgrade
    from hangdoi.services.replication import ingest
    settings, database = _settings_and_db()
    upgrade(settings.resolved_database_url())
    link_id, key = ingest.add_centre(database, name.strip(), area.strip())
    click.echo(f"centre link {link_id}: {name.strip()}")
    click.echo(f"HANGDOI_PROVINCE_KEY={key}")


@province.command("revoke-centre")
@click.argument("link_id", type=click.IntRange(1))
def province_revoke_centre(link_id: int) -> None:
    """Refuse a centre's key from now on (what it pushed stays)."""
    from hangdoi.services.replication import ingest
    _, database = _settings_and_db()
    if not ingest.revoke_centre(database, link_id):
        raise click.ClickException(f"no live centre link {link_id}")
    click.echo(f"centre link {link_id} revoked")


@province.command("catalogue")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def province_catalogue(path: str) -> None:
    """Put the province's procedure catalogue in force from a spreadsheet (.csv or .xlsx, the columns
    of a centre's catalogue export); each linked centre receives it and chooses what it serves."""
    from hangdoi.engine.errors import DomainError
    from hangdoi.messages import text
    from hangdoi.schema import upgrade
    from hangdoi.services.administration.catalogue_file import read_file
    from hangdoi.services.replication import catalogue_at_province
    settings, database = _settings_and_db()
    upgrade(settings.resolved_database_url())
    data = open(path, "rb").read()
    try:
        document = catalogue_at_province.document_of(read_file(data, "xlsx" if path.endswith(".xlsx") else "csv"))
    except DomainError as exc:
        raise click.ClickException(text(exc.code, **exc.params)) from None
    fingerprint = catalogue_at_province.store(database, document)
    click.echo(f"province catalogue: {len(document['domains'])} fields, {len(document['services'])} procedures "
               f"({fingerprint[:12]})")


@province.command("settings")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def province_settings(path: str) -> None:
    """Put the province's settings template in force from a JSON file: any of "opening_hours",
    "closed_days" (the year's holidays) and "settings" (sla_minutes, booking rules, …), as a centre's
    own settings are written. Each linked centre receives it; its admin takes what they choose."""
    import json

    from hangdoi.engine.errors import DomainError
    from hangdoi.messages import text
    from hangdoi.schema import upgrade
    from hangdoi.services.replication import settings_at_province
    settings, database = _settings_and_db()
    upgrade(settings.resolved_database_url())
    try:
        with open(path, "rb") as file:
            template = json.loads(file.read(1024 * 1024 + 1).decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: not a JSON file ({exc})") from None
    try:
        fingerprint = settings_at_province.store(database, template)
    except DomainError as exc:
        raise click.ClickException(text(exc.code, **exc.params)) from None
    parts = settings_at_province.current(database)
    named = [key for key in ("opening_hours", "closed_days") if key in parts] + \
        [f"settings.{key}" for key in parts.get("settings", {})]
    click.echo(f"province settings template: {', '.join(named)} ({fingerprint[:12]})")


@province.command("centres")
def province_centres() -> None:
    """The linked centres: their last acknowledged change and last push."""
    from hangdoi.services.replication import ingest
    _, database = _settings_and_db()
    for link in ingest.links(database):
        state = "revoked" if link["revoked"] else f"change {link['acknowledged']}, last push {link['last_push_at']}"
        click.echo(f"{link['id']}\t{link['name']}\t{link['area']}\t{state}")


@main.command("close-day")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Close open tickets of this local day and before (default: today).")
def close_day(day) -> None:
    """Close every ticket still open at the end of the day, free all counters, and delete citizens'
    details older than each centre keeps them."""
    from hangdoi.engine import close_day as close
    from hangdoi.models import Centre
    settings, database = _settings_and_db()
    projection = _external_projection(settings, database)
    with database.read() as s:
        centre_ids = s.scalars(select(Centre.id).order_by(Centre.id)).all()
    for centre_id in centre_ids:
        result = close(database, centre_id, day.date() if day else None)
        click.echo(f"centre {centre_id}: closed {result['closed_tickets']} tickets, "
                   f"ended {result['ended_sessions']} counter sessions, deleted "
                   f"{result['purged_personal_data']} citizens' details ({result['day']})")
    if projection is not None:
        projection.flush()


@main.command("backup")
@click.option("--to", "folder", type=click.Path(file_okay=False), default=None,
              help="Folder for the backup file (default: <data dir>/backups).")
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Then delete all but the newest KEEP backups in that folder (default: delete none).")
def backup_command(folder: str | None, keep: int | None) -> None:
    """Copy the whole database into one file (SQLite online backup, or pg_dump)."""
    from pathlib import Path

    from hangdoi.backup import BackupError, backup, prune
    settings = load_settings()
    into = Path(folder) if folder else settings.data_dir / "backups"
    try:
        target = backup(settings.resolved_database_url(), into)
        deleted = prune(into, keep) if keep else []
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup written to {target}")
    if deleted:
        click.echo(f"deleted {len(deleted)} older backups: {', '.join(p.name for p in deleted)}")


@main.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Yes, replace everything in the database with the backup.")
def restore_command(source: str, yes: bool) -> None:
    """Replace the whole database with a backup file. Stop the server first."""
    from pathlib import Path

    from hangdoi.backup import BackupError, restore
    if not yes:
        raise click.UsageError("restoring replaces every ticket and setting in the database with the "
                               "backup's; stop the server, then run again with --yes")
    from hangdoi.running import server_running
    settings = load_settings()
    if server_running(settings.data_dir):
        raise click.ClickException(
            f"a hangdoi server is running on {settings.data_dir}: stop it first (systemctl stop hangdoi, and "
            "every other server of the same database), then restore; nothing was changed")
    try:
        restore(settings.resolved_database_url(), Path(source))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"database restored from {source}. Numbers issued after the backup was made will be issued "
               "again today: restore only before the centre opens, or tell citizens holding those numbers.")


@main.command("hardware")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The bridge's TOML file: server, key, keypads, leds (see drivers/bridge.py).")
def hardware(config_path: str) -> None:
    """Run the hardware bridge: serial keypads and counter LED signs, here or on a PC near them."""
    from drivers.bridge import run
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(config_path)


@main.command("simulate")
@click.option("--scenario", "scenario_path", required=True, type=click.Path(dir_okay=False),
              help="The scenario's JSON file (see bench/scenarios/README.md).")
@click.option("--days", type=click.IntRange(1, 100_000), default=None, help="Working days (default: the scenario's).")
@click.option("--seed", type=click.IntRange(0), default=None, help="Random seed (default: the scenario's).")
@click.option("--progress", is_flag=True, help="Print each finished day on stderr.")
@click.option("--record", "record_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write one JSON line per predicted ticket, with our forecast's P5…P95 "
                   "(bench/calibration.py reads it).")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Processes that ask the estimators (default: one per core); the figures do not depend on it.")
@click.option("--notices", is_flag=True,
              help="Instead: when each rule for \"your turn is near\" would message a waiting citizen, against "
                   "when they were called (ours by the chance of a call within T minutes, products' by people "
                   "ahead or the naive estimate).")
@click.option("--visits", is_flag=True,
              help="Instead: the scenario's bookings and remote numbers against the same citizens all walking in "
                   "(booked lateness, walk-ins' wait, remote citizens' time in the hall).")
def simulate(scenario_path: str, days: int | None, seed: int | None, progress: bool, record_path: str | None,
             jobs: int | None, notices: bool, visits: bool) -> None:
    """Play whole days of a centre through the engine and score every wait-time estimator (JSON)."""
    import json

    from hangdoi.services.simulation.run import simulate as run
    from hangdoi.services.simulation.scenario import ScenarioError, load
    logging.getLogger().setLevel(logging.WARNING)
    try:
        scenario = load(scenario_path)
    except ScenarioError as exc:
        raise click.UsageError(f"scenario {scenario_path}: {exc}") from exc
    progress_line = (lambda n, total: click.echo(f"day {n}/{total}", err=True)) if progress else None
    if visits:
        from hangdoi.services.simulation.visits import simulate_visits
        if not scenario.visits.booking_share and not scenario.visits.remote_share:
            raise click.UsageError(f"scenario {scenario_path}: no booking_share or remote_share to simulate")
        report = simulate_visits(scenario, days=days, seed=seed, progress=progress_line)
    elif notices:
        from hangdoi.services.simulation.notices import simulate_notices
        report = simulate_notices(scenario, days=days, seed=seed, progress=progress_line,
                                  jobs=jobs or os.cpu_count() or 1)
    else:
        jobs = jobs or os.cpu_count() or 1
        if record_path is None:
            report = run(scenario, days=days, seed=seed, progress=progress_line, jobs=jobs)
        else:
            with open(record_path, "w", encoding="utf-8") as record:
                report = run(scenario, days=days, seed=seed, progress=progress_line, record=record, jobs=jobs)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    sys.exit(main())


