"""Issued tickets → the printer of the kiosk that asked for them; printer news → managers.

The printer is the kiosk's own (`kiosk.printer`), else the centre's default
(`centre.settings["printer"]`), else none. Printing starts after the ticket is committed, so a
printer fault can never cost a ticket, and the answer comes back within drivers' LIMIT seconds.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from sqlalchemy import select

from drivers.printer import status as printer_state
from drivers.printer.service import PrinterPool
from drivers.printer.ticket import PrintedTicket, warm_up
from drivers.printer.transports import SettingsError, check_settings, printer_key
from hangdoi.clock import local_time
from hangdoi.engine import state
from hangdoi.engine.errors import NotFound
from hangdoi.models import Centre, Kiosk, Ticket

log = logging.getLogger(__name__)

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
SETTINGS_SECONDS = 10


def printed_time(instant: datetime, timezone: str) -> str:
    local = local_time(instant, timezone)
    return f"{local:%H:%M} · {WEEKDAYS[local.weekday()]}, {local:%d/%m/%Y}"


def print_message_code(result: dict | None) -> str | None:
    """The catalogue message a kiosk shows about its printout, or None when all went well."""
    if result is None or result["printed"]:
        return None
    return "print_paper_out" if result["state"] == printer_state.PAPER_OUT else "print_failed"


class TicketPrinting:
    def __init__(self, db, data_dir, notify=None):
        self.db = db
        self.notify = notify or (lambda centre_id, payload: None)
        self.pool = PrinterPool(data_dir / "printed", on_status=self._changed)
        self._centres_of_printer: dict[str, set[int]] = {}
        self._settings: dict[tuple, tuple[float, dict | None]] = {}
        threading.Thread(target=warm_up, name="printer warm-up", daemon=True).start()

    # -- which printer ------------------------------------------------------------------------
    def printer_for(self, centre_id: int, kiosk: str | None) -> dict | None:
        """The printer settings, read at most every SETTINGS_SECONDS: a busy kiosk should not pay a
        database read per ticket for something that changes once a year."""
        key, now = (centre_id, kiosk), time.monotonic()
        cached = self._settings.get(key)
        if cached is None or now - cached[0] > SETTINGS_SECONDS:
            cached = (now, self._read_printer(centre_id, kiosk))
            self._settings[key] = cached
        return cached[1]

    def forget(self) -> None:
        """Printer settings were changed: read them again on the next ticket."""
        self._settings.clear()

    def _read_printer(self, centre_id: int, kiosk: str | None) -> dict | None:
        with self.db.read() as s:
            raw = None
            if kiosk is not None:
                raw = s.scalars(select(Kiosk.printer).where(Kiosk.centre_id == centre_id, Kiosk.name == kiosk)).first()
            if raw is None:
                centre = s.get(Centre, centre_id)
                raw = (centre.settings or {}).get("printer") if centre else None
        if raw is None:
            return None
        try:
            settings = check_settings(raw)
        except SettingsError as exc:
            log.error("printer settings of %s are wrong (%s); not printing", kiosk or "the centre", exc)
            return {"invalid": True}
        self._centres_of_printer.setdefault(printer_key(settings), set()).add(centre_id)
        return settings

    # -- printing -----------------------------------------------------------------------------
    def print_ticket(self, centre_id: int, ticket: dict, kiosk: str | None, base_url,
                     note: tuple[str, ...] = ()) -> dict | None:
        """Print an issued ticket; the answer for the kiosk: None when there is no printer.
        `base_url()` gives the address for the QR code (asked only when there is something to print);
        `note`: lines printed above the usual footer (an appointment's, say)."""
        settings = self.printer_for(centre_id, kiosk)
        if settings is None:
            return None
        if settings.get("invalid"):
            return {"printed": False, "state": printer_state.ERROR, "printer": None}
        card = state.ticket_card(self.db, ticket["id"])
        paper = PrintedTicket(
            centre=card["centre"], domain=card["domain"], service=card["service"], number=ticket["number"],
            issued_at=printed_time(card["issued_at"], card["timezone"]),
            status_url=f"{base_url().rstrip('/')}/t/{ticket['public_id']}",
            people_ahead=ticket.get("position", 0), priority=card["priority"], counters=tuple(card["counters"]),
            wait=((ticket.get("estimated_wait") or {}).get("text") or {}).get("vi"),
            **({"footer": (*note, *PrintedTicket.footer)} if note else {}))
        return self.pool.print(settings, paper, label=ticket["number"]).as_dict()

    def reprint_last(self, centre_id: int, kiosk_id: int, base_url) -> dict:
        """Print again the kiosk's latest ticket (a manager's button, after the paper is refilled)."""
        with self.db.read() as s:
            kiosk = s.get(Kiosk, kiosk_id)
            if kiosk is None or kiosk.centre_id != centre_id:
                raise NotFound("kiosk_not_found")
            public_id = s.scalars(select(Ticket.public_id).where(Ticket.centre_id == centre_id, Ticket.kiosk == kiosk.name)
                                  .order_by(Ticket.id.desc())).first()
            name = kiosk.name
        if public_id is None:
            raise NotFound("ticket_not_found")
        ticket = state.ticket_status(self.db, public_id)
        return {"ticket": ticket, "print": self.print_ticket(centre_id, ticket, name, base_url)}

    # -- what managers see --------------------------------------------------------------------
    def devices(self, centre_id: int) -> list[dict]:
        with self.db.read() as s:
            kiosks = [(k.id, k.name, k.active) for k in
                      s.scalars(select(Kiosk).where(Kiosk.centre_id == centre_id).order_by(Kiosk.id))]
        out = []
        for kiosk_id, name, active in kiosks:
            settings = self.printer_for(centre_id, name)
            key = printer_key(settings) if settings and not settings.get("invalid") else None
            out.append({"id": kiosk_id, "name": name, "active": active, "printer": key,
                        "printer_state": self.pool.states.get(key) if key else None})
        return out

    def _changed(self, key: str, new_state: str) -> None:
        for centre_id in self._centres_of_printer.get(key, ()):
            self.notify(centre_id, {"printer": key, "state": new_state,
                                    "ok": new_state in printer_state.PRINTABLE})
