"""`hangdoi backup` / `hangdoi restore` round-trip a day of tickets, on SQLite and PostgreSQL."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from hangdoi import engine
from hangdoi.backup import BackupError, backup, restore
from hangdoi.cli import main
from hangdoi.engine.sql import Tx
from hangdoi.engine.replay import mismatches

from .conftest import service_missing


def day_of_work(db, clock, ids) -> None:
    engine.sign_in(db, ids.counter(1), ids.officer("an"))
    for i in range(6):
        clock.advance(minutes=3)
        engine.issue_ticket(db, ids.centre, "HT01" if i % 2 else "CT01")
    for _ in range(3):
        clock.advance(minutes=5)
        engine.call_next(db, ids.counter(1), ids.officer("an"), previous="served")
    engine.no_show(db, ids.counter(1), ids.officer("an"))


def contents(db) -> dict:
    with db.read() as session:
        tx = Tx(session)
        return {"tickets": tx.rows("SELECT id, display_number, status, issued_at, called_at FROM ticket ORDER BY id"),
                "events": tx.rows("SELECT ticket_id, kind, seq FROM ticket_event ORDER BY id"),
                "seq": tx.value("SELECT seq FROM centre"),
                "numbering": tx.rows("SELECT * FROM series_day ORDER BY series_id, local_day")}


@pytest.fixture(autouse=True)
def tools(db_url):
    if db_url.startswith("postgresql") and shutil.which("pg_dump") is None:
        service_missing("pg_dump is not installed (Debian package postgresql-client)")


def test_a_day_survives_a_backup_and_restore(db, db_url, clock, centre, tmp_path):
    day_of_work(db, clock, centre)
    before = contents(db)
    saved = backup(db_url, tmp_path / "backups")
    assert saved.is_file() and saved.stat().st_size > 0
    # Life goes on after the backup, then something goes wrong and the backup is restored.
    clock.advance(minutes=10)
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, centre.counter(1), centre.officer("an"), previous="served")
    assert contents(db) != before
    db.dispose()
    restore(db_url, saved)
    assert contents(db) == before
    with db.read() as session:
        assert mismatches(session) == []                 # every ticket replays from its timeline
    # The restored centre works on: the next number follows the restored ones, never repeats.
    clock.advance(minutes=1)
    numbers = {t["display_number"] for t in before["tickets"]}
    assert engine.issue_ticket(db, centre.centre, "HT01")["number"] not in numbers


def test_restore_refuses_what_is_not_a_backup(db_url, tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError):
        restore(db_url, junk)
    with pytest.raises(BackupError, match="no such backup file"):
        restore(db_url, tmp_path / "missing")


def test_the_commands_ask_before_replacing_anything(db, db_url, centre, tmp_path, monkeypatch):
    monkeypatch.setenv("HANGDOI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HANGDOI_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["backup", "--to", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    saved = next((tmp_path / "b").iterdir())
    refused = CliRunner().invoke(main, ["restore", str(saved)])
    assert refused.exit_code == 2 and "--yes" in refused.output
    db.dispose()
    done = CliRunner().invoke(main, ["restore", str(saved), "--yes"])
    assert done.exit_code == 0, done.output


def test_keep_deletes_all_but_the_newest_backups_and_nothing_else(db, db_url, centre, tmp_path, monkeypatch):
    folder = tmp_path / "b"
    folder.mkdir()
    old = [folder / f"hangdoi-2020010{d}-121500.{'sqlite3' if d % 2 else 'pgdump'}" for d in range(1, 6)]
    for path in old:
        path.write_bytes(b"an older backup")
    strangers = [folder / "notes.txt", folder / "hangdoi-important.sqlite3", folder / "hangdoi-20200101-121500.sqlite3.bak"]
    for path in strangers:
        path.write_text("not ours to delete")
    monkeypatch.setenv("HANGDOI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HANGDOI_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["backup", "--to", str(folder), "--keep", "3"])
    assert result.exit_code == 0, result.output
    kept = sorted(p.name for p in folder.iterdir() if p not in strangers)
    assert kept[:2] == [old[3].name, old[4].name] and len(kept) == 3      # the two newest old ones and today's
    assert all(p.exists() for p in strangers)
    assert "deleted 3 older backups" in result.output
    for bad in ("0", "-1", "two"):
        refused = CliRunner().invoke(main, ["backup", "--to", str(folder), "--keep", bad])
        assert refused.exit_code == 2
    assert len([p for p in folder.iterdir() if p not in strangers]) == 3   # a refused command made nothing

