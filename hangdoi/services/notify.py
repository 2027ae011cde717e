"""Messages to citizens whose visit began on a phone: "your turn is near", "please go to counter
3", and "your booking was cancelled because nobody came".

A thread per process looks at every centre now and then: it ends what can no longer be kept
(hangdoi/engine/bookings.py, expire_due) and finds remote numbers whose call the forecast puts
within the centre's `near_minutes`. Calls come from the commit listener as they happen. Sending
is done by one more thread, through the centre's SMS channel (drivers/sms/: a GSM modem or an
HTTP gateway, `centre.settings["sms"]`), so a slow or failed channel never holds a call or a
transaction. Each message is claimed in the database before it is sent, so that several workers
send it once; its outcome goes on the ticket's timeline.
"""
from __future__ import annotations

import logging
import queue
import threading
import time

from drivers.sms import Sent, SmsChannel
from drivers.sms.gateway import HttpGateway
from drivers.sms.modem import GsmModem
from drivers.sms.text import without_diacritics
from hangdoi.engine import bookings, scope, state
from hangdoi.engine.booking_rules import rules_of

log = logging.getLogger(__name__)
LOOK_EVERY_SECONDS = 20
# A call wakes the look early (the forecast moved), but a busy centre calls every few seconds.
LOOK_AT_MOST_EVERY_SECONDS = 2

TEXTS = {
    "near": "[{centre}] Số {number} ({service}): sắp đến lượt quý vị{when}. "
            "Mời đến trung tâm và quét mã {code} tại ki-ốt.",
    "called": "[{centre}] Mời quý vị có số {number} đến quầy {counter}.",
    "ended": "[{centre}] {what} {code} đã bị huỷ vì quý vị không có mặt đúng giờ. Xin cảm ơn.",
}


def channel_for(settings: dict) -> SmsChannel | None:
    """The centre's SMS channel, or None when it has none (the status page still signals)."""
    sms = settings.get("sms") or {}
    if sms.get("channel") == "gsm" and sms.get("port"):
        return GsmModem(sms["port"], baudrate=int(sms.get("baudrate", 115200)))
    if sms.get("channel") == "http" and sms.get("url"):
        return HttpGateway(sms["url"], sms.get("method", "POST"), sms.get("headers"), sms.get("body", ""),
                           sms.get("success"))
    return None


def near(wait: dict | None, lead_minutes: int, session_left: float | None = None) -> bool:
    """Time to tell the holder of a remote number to come: the late end of the forecast's range
    (P80: called by then in four runs of five) puts the call within their lead. Not "nobody ahead
    in its queue": the counters may be busy with other queues, or about to break for lunch. A
    holder who arrives after their turn came keeps their place and is called next, so telling them
    later costs them little; telling them early makes them wait in the hall (`hangdoi simulate
    --visits`, urban ward, 100 days: hall p90 11.2 min, 1.1 % arriving after their turn). Nor while
    the call falls in the session under way but they could not get here before it ends: told then,
    they found the hall closed for lunch; they are told once the next session's call comes near.
    Why not earlier: `hangdoi simulate --notices` finds a chance of 0.3 best for a message that must
    come 5–30 minutes ahead of a call the citizen would otherwise miss; told that early, the urban
    ward's remote citizens waited 18.7 minutes in the hall at the p90, and here a late one misses
    nothing.
    `wait`: the ticket's estimate as wait_view gives it; `session_left`: minutes to the session's end."""
    if not wait:
        return False
    minutes = wait.get("high") if wait.get("high") is not None else wait.get("minutes")
    if minutes is None or minutes > lead_minutes:
        return False
    return not (session_left is not None and minutes < session_left < lead_minutes)


class Notifier:
    def __init__(self, db, estimates, interval: float = LOOK_EVERY_SECONDS, autostart: bool = True):
        """`autostart=False`: no threads; the caller looks and sends (`look`, `send_pending`)."""
        self.db, self.estimates, self.interval, self.autostart = db, estimates, interval, autostart
        self._outbox: queue.Queue = queue.Queue()
        self._wake = threading.Event()
        self._channels: dict[str, SmsChannel] = {}
        self._started = False
        self._start_lock = threading.Lock()

    def start(self) -> None:
        with self._start_lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._look_loop, name="hangdoi-notify-look", daemon=True).start()
        threading.Thread(target=self._send_loop, name="hangdoi-notify-send", daemon=True).start()

    # -- what happens: calls, from the commit listener (cheap: queued, sent elsewhere) ---------
    def on_commit(self, change) -> None:
        for call in change.calls:
            if not call["recall"] and call["ticket"].get("origin"):
                self._outbox.put(("called", change.centre_id, call))
        if change.calls:
            self._wake.set()           # a call moves everyone's forecast: look again soon
        if self.autostart:
            self.start()

    # -- what time does: expiry, and the turn coming near --------------------------------------
    def _look_loop(self) -> None:
        while not self.db.closed:
            try:
                for centre_id in scope.centre_ids(self.db):
                    self.look(centre_id)
            except Exception:  # noqa: BLE001 — a message is a courtesy; it must never stop the centre
                log.exception("could not look for messages to send")
            time.sleep(LOOK_AT_MOST_EVERY_SECONDS)
            self._wake.wait(self.interval)
            self._wake.clear()

    def look(self, centre_id: int) -> None:
        """Queue the messages that time has made due at this centre."""
        if not bookings.any_open(self.db, centre_id):
            return
        for ended in bookings.expire_due(self.db, centre_id):
            self._outbox.put(("ended", centre_id, ended))
        open_remote = bookings.open_remote(self.db, centre_id)
        if not open_remote:
            return
        rules = rules_of(state.centre_settings(self.db, centre_id))
        left = state.session_left(self.db, centre_id)
        for booking in open_remote:
            if "near" in booking["notices"]:
                continue
            ticket = self.estimates.with_estimate(state.ticket_status(self.db, booking["public_id"]), centre_id)
            wait = ticket.get("estimated_wait") or {}
            if near(wait, bookings.lead_minutes(rules, booking), left):
                self._outbox.put(("near", centre_id, {"booking": booking, "ticket": ticket,
                                                      "minutes": wait.get("minutes") or wait.get("low") or 0}))

    # -- sending ------------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while not self.db.closed:
            try:
                job = self._outbox.get(timeout=30)      # mostly asleep: a call puts a job here at once
            except queue.Empty:
                continue
            self._deliver_safely(*job)

    def send_pending(self) -> int:
        """Send what is queued now, in this thread (the command line; tests). Returns how many."""
        done = 0
        while True:
            try:
                job = self._outbox.get_nowait()
            except queue.Empty:
                return done
            self._deliver_safely(*job)
            done += 1

    def _deliver_safely(self, what: str, centre_id: int, item: dict) -> None:
        try:
            self.deliver(what, centre_id, item)
        except Exception:  # noqa: BLE001 — one message's trouble must not stop the others
            log.exception("could not send a %s message", what)

    def deliver(self, what: str, centre_id: int, item: dict) -> Sent | None:
        """Claim, send, record one message; None when it was not this process's to send."""
        booking = item.get("booking") if what == "near" else item if what == "ended" else \
            bookings.of_ticket(self.db, item["ticket"]["id"])
        if booking is None:
            return None
        booking_id = booking["id"]
        claimed = bookings.claim_notice(self.db, booking_id, what)
        if claimed is None:
            return None
        settings = state.centre_settings(self.db, centre_id)
        channel = self._channel(settings)
        if channel is None:
            bookings.record_notice(self.db, booking_id, what, "page", "shown")
            return None
        text = self.text(what, centre_id, claimed, item)
        if (settings.get("sms") or {}).get("ascii", True):
            text = without_diacritics(text)
        sent = channel.send(claimed["phone"], text)
        bookings.record_notice(self.db, booking_id, what, channel.name, "sent" if sent.ok else "failed", sent.detail)
        return sent

    def _channel(self, settings: dict) -> SmsChannel | None:
        key = repr(sorted((settings.get("sms") or {}).items()))
        if key not in self._channels:
            self._channels[key] = channel_for(settings)
        return self._channels[key]

    def text(self, what: str, centre_id: int, booking: dict, item: dict) -> str:
        centre = state.centre_name(self.db, centre_id)
        if what == "near":
            ticket = item["ticket"]
            minutes = item["minutes"]
            when = f", dự kiến khoảng {minutes} phút nữa" if minutes >= 2 else ""
            return TEXTS["near"].format(centre=centre, number=ticket["number"], service=ticket["service"]["name"],
                                        when=when, code=booking["code"])
        if what == "called":
            return TEXTS["called"].format(centre=centre, number=item["ticket"]["number"],
                                          counter=item["counter"]["number"])
        return TEXTS["ended"].format(centre=centre, code=booking["code"],
                                     what="Số" if booking["kind"] == "remote" else "Lịch hẹn")
