"""`hangdoi backup` and `hangdoi restore`: a whole database in one file, and back.

- SQLite: SQLite's online backup (the server may keep running: the copy is one consistent moment,
  WAL included). Restoring copies the file back the same way, page by page inside SQLite's own
  locking, after checking the file is an intact hangdoi database.
- PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --no-owner`. When the
  database URL chooses a schema (`options=-csearch_path=…`), only that schema is dumped and restored.

`--keep N` then deletes all but the newest N backups in the folder (only files this command names
`hangdoi-YYYYmmdd-HHMMSS.*`), so a daily timer does not fill the disk, and a citizen's details
noted at a counter do not outlive the centre's keeping period in old copies.

Restore replaces everything in the database: the command asks for `--yes`, and refuses while a
server runs on the data directory (hangdoi/running.py): a running server would go on from what it
has in memory. Numbers issued after the backup was made are issued again after a restore.
"""
from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy.engine import make_url

REQUIRED_TABLES = {"centre", "ticket", "ticket_event", "alembic_version"}
BACKUP_NAME = re.compile(r"hangdoi-\d{8}-\d{6}\.(?:sqlite3|pgdump)")


class BackupError(RuntimeError):
    """What went wrong, said plainly for the command line."""


def backup(database_url: str, folder: Path, now: datetime | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        target = folder / f"hangdoi-{stamp}.sqlite3"
        _sqlite_copy(_sqlite_path(url), target)
        # The copy carries the live database's WAL mode, and a WAL file leaves -wal and -shm files
        # beside it whenever it is opened: a backup is one self-contained file.
        single = sqlite3.connect(target)
        try:
            single.execute("PRAGMA journal_mode=DELETE")
        finally:
            single.close()
        return target
    target = folder / f"hangdoi-{stamp}.pgdump"
    _run(["pg_dump", "--format=custom", f"--file={target}", *_schema_options(url), _libpq(url)], "pg_dump")
    return target


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`; returns what was deleted. The names
    carry their moment, so they sort from oldest to newest."""
    if keep < 1:
        raise BackupError("--keep must be at least 1: the backup just made is always kept")
    backups = sorted(p for p in folder.iterdir() if p.is_file() and BACKUP_NAME.fullmatch(p.name))
    old = backups[:-keep]
    for path in old:
        path.unlink()
    return old


def restore(database_url: str, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no such backup file: {source}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(source)
        _sqlite_copy(source, _sqlite_path(url), still=True)
        return
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
          *_schema_options(url), f"--dbname={_libpq(url)}", str(source)], "pg_restore")


# -- SQLite ------------------------------------------------------------------------------------
def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path, still: bool = False) -> None:
    """SQLite's online backup from `source` to `target`; `still`: the source is a backup file that
    nothing writes, read without leaving any file beside it."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro{'&immutable=1' if still else ''}", uri=True)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()


def _check_sqlite_backup(source: Path) -> None:
    try:
        # Immutable: reading the backup to check it writes nothing beside it.
        connection = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
        try:
            if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is damaged (integrity check failed)")
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite database: {exc}") from exc
    if not REQUIRED_TABLES <= tables:
        raise BackupError(f"{source} is not a hangdoi backup (missing tables: "
                          f"{', '.join(sorted(REQUIRED_TABLES - tables))})")


# -- PostgreSQL --------------------------------------------------------------------------------
def _libpq(url) -> str:
    """The SQLAlchemy URL as libpq takes it (no driver name, no query options)."""
    return url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)


def _schema_options(url) -> list[str]:
    options = url.query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    for part in unquote(options or "").split():
        if part.startswith("-csearch_path="):
            return [f"--schema={part.split('=', 1)[1].split(',')[0]}"]
    return []


def _run(command: list[str], tool: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed (Debian package postgresql-client)")
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        raise BackupError(f"{tool} failed: {finished.stderr.strip()[-500:]}")
