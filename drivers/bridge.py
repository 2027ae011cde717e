"""The hardware bridge: serial keypads and counter LED signs, wherever they are plugged in.

It talks to the server like any other client, so it runs as well on the server itself as on a
small PC near the counters (`hangdoi hardware --config bridge.toml`):

- a keypad press becomes `POST /api/v1/hardware/keypad`, which runs the counter action as the
  officer signed in at that counter (the same engine call as the web button);
- the LED signs follow the lobby display's feed over Socket.IO: a new call blinks, then stays;
- a port that is missing, unplugged or babbling is logged, retried with back-off and reported to
  managers (`POST /api/v1/hardware/status` → `device_status` in the supervision room).

Config (TOML):

    server = "http://192.168.1.10:5000"
    key = "..."                                   # HANGDOI_HARDWARE_KEY of the server
    centre = 2                                    # optional: the centre's id, when the server hosts several
    [[keypads]]
    port = "/dev/ttyUSB0"                         # any pyserial URL
    baudrate = 9600
    protocol = "line"
    [[leds]]
    port = "/dev/ttyUSB1"
    protocol = "modbus"                           # or "ascii"
    counters = [1, 2, 3]                          # the addresses on this line; empty: every counter
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from .keypad import PROTOCOLS as KEYPAD_PROTOCOLS
from .keypad import BadFrame, KeyPress
from .led import PROTOCOLS as LED_PROTOCOLS
from .serial_link import SerialLink

log = logging.getLogger(__name__)

BLINK_SECONDS = 5.0
# How often an LED line is looked at: a sign unplugged is noticed, and one plugged back shows what
# the board shows, within this, with no call needed.
SIGN_CHECK_SECONDS = 1.0
KEY_HEADER = "X-Hangdoi-Hardware-Key"


class BridgeRefused(RuntimeError):
    """The server refused the bridge itself (a wrong key): nothing it does would be accepted."""


@dataclass
class Sign:
    """One LED line and what each of its signs shows now (only what was written without error)."""
    link: SerialLink
    protocol: object
    counters: set[int]
    shown: dict[int, str] = field(default_factory=dict)

    def covers(self, number: int) -> bool:
        return not self.counters or number in self.counters


@dataclass
class LineConfig:
    port: str
    protocol: str
    baudrate: int = 9600
    counters: list[int] = field(default_factory=list)


@dataclass
class BridgeConfig:
    server: str
    key: str
    centre: int | None = None
    keypads: list[LineConfig] = field(default_factory=list)
    leds: list[LineConfig] = field(default_factory=list)

    @classmethod
    def load(cls, path) -> "BridgeConfig":
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict) -> "BridgeConfig":
        def lines(kind, protocols, default):
            out = []
            for entry in raw.get(kind, []):
                line = LineConfig(port=str(entry["port"]), protocol=entry.get("protocol", default),
                                  baudrate=int(entry.get("baudrate", 9600)),
                                  counters=[int(c) for c in entry.get("counters", [])])
                if line.protocol not in protocols:
                    raise ValueError(f"{kind}: unknown protocol {line.protocol!r} ({', '.join(protocols)})")
                out.append(line)
            return out
        if not raw.get("server") or not raw.get("key"):
            raise ValueError("the bridge needs `server` and `key`")
        centre = raw.get("centre")
        if centre is not None and (isinstance(centre, bool) or not isinstance(centre, int) or centre <= 0):
            raise ValueError("`centre` is a centre id, a positive whole number")
        return cls(server=raw["server"].rstrip("/"), key=raw["key"], centre=centre,
                   keypads=lines("keypads", KEYPAD_PROTOCOLS, "line"), leds=lines("leds", LED_PROTOCOLS, "ascii"))


class HardwareBridge:
    def __init__(self, config: BridgeConfig):
        self.config = config
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.keypads = [(SerialLink(c.port, c.baudrate, on_state=self._report("keypad")),
                         KEYPAD_PROTOCOLS[c.protocol]()) for c in config.keypads]
        self.signs = [Sign(SerialLink(c.port, c.baudrate, on_state=self._report("led")), LED_PROTOCOLS[c.protocol](),
                           set(c.counters)) for c in config.leds]
        self.wanted: dict[int, str] = {}       # counter number → what the board shows for it
        self.blinks: dict[int, int] = {}       # counter number → its latest call (a recall is one)
        self.realtime = None
        self.presses = 0

    # -- running ------------------------------------------------------------------------------
    def start(self) -> "HardwareBridge":
        """Say hello to the server first: a wrong key is said at once (BridgeRefused), not found out
        press by press. An unreachable server is waited for."""
        hello = self._post("/api/v1/hardware/status", {"device": "bridge", "port": socket.gethostname()[:200],
                                                       "state": "online", "detail": None})
        if hello is not None and hello.get("error", {}).get("code") in ("hardware_key_required", "unauthorized",
                                                                        "forbidden", "http_401", "http_403"):
            raise BridgeRefused(f"the server at {self.config.server} refused the bridge's key: "
                                f"{hello['error'].get('message', '')}")
        for link, protocol in self.keypads:
            thread = threading.Thread(target=self._read_keypads, args=(link, protocol), daemon=True,
                                      name=f"keypad {link.url}")
            thread.start()
            self.threads.append(thread)
        for sign in self.signs:
            thread = threading.Thread(target=self._watch_sign, args=(sign,), daemon=True, name=f"sign {sign.link.url}")
            thread.start()
            self.threads.append(thread)
        if self.signs:
            from drivers.realtime_client import RealtimeClient
            self.realtime = RealtimeClient(self.config.server, "display", on_snapshot=self._on_snapshot,
                                           on_message=self._on_message, centre=self.config.centre)
            threading.Thread(target=self._connect_realtime, daemon=True, name="bridge realtime").start()
        return self

    def _connect_realtime(self) -> None:
        pause = 0.5
        while not self.stop_event.is_set():
            try:
                self.realtime.connect()
                return
            except Exception as exc:  # noqa: BLE001 — the server may not be up yet
                log.warning("bridge cannot reach %s yet: %s", self.config.server, exc)
                self.stop_event.wait(pause)
                pause = min(pause * 2, 10)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=2)
        if self.realtime is not None:
            self.realtime.close()
        for link, _ in self.keypads:
            link.close()
        for sign in self.signs:
            sign.link.close()

    # -- keypads ------------------------------------------------------------------------------
    def _read_keypads(self, link: SerialLink, protocol) -> None:
        while not self.stop_event.is_set():
            data = link.read()
            if not data:
                continue
            for item in protocol.feed(data):
                if isinstance(item, BadFrame):
                    log.warning("keypad %s: dropped %r (%s)", link.url, item.data, item.reason)
                else:
                    self.press(item)

    def press(self, key: KeyPress) -> dict | None:
        self.presses += 1
        answer = self._post("/api/v1/hardware/keypad",
                            {"counter": key.counter, "key": key.key, "argument": key.argument})
        if answer is not None and "error" in answer:
            log.warning("keypad at counter %s, %s: %s", key.counter, key.key, answer["error"]["message"])
        return answer

    # -- LED signs ----------------------------------------------------------------------------
    def _on_snapshot(self, snapshot: dict) -> None:
        for counter in snapshot.get("counters", []):
            self._show(counter["number"], counter.get("ticket") or "", blink=False, force=True)

    def _on_message(self, event: str, data: dict) -> None:
        if event == "ticket_called":
            number, text = data["counter"]["number"], data["ticket"]["number"]
            # Each call (a recall too) blinks its full time: an earlier call's timer must not stop it.
            call = self.blinks[number] = self.blinks.get(number, 0) + 1
            self._show(number, text, blink=True, force=True)
            timer = threading.Timer(BLINK_SECONDS, self._settle, args=(number, text, call))
            timer.daemon = True
            timer.start()
        elif event == "state_changed":
            for counter in data.get("counters", []):
                self._show(counter["number"], counter.get("ticket") or "", blink=False)

    def _settle(self, number: int, text: str, call: int) -> None:
        if self.blinks.get(number) == call and self.wanted.get(number) == text:
            self._show(number, text, blink=False, force=True)

    def _show(self, number: int, text: str, blink: bool, force: bool = False) -> None:
        self.wanted[number] = text
        for sign in self.signs:
            if sign.covers(number) and (force or sign.shown.get(number) != text):
                self._write(sign, number, text, blink)

    def _write(self, sign: Sign, number: int, text: str, blink: bool) -> None:
        # Remembered as shown only once written: a sign that missed it gets it when it is back.
        if sign.link.write(sign.protocol.frame(number, text, blink)):
            sign.shown[number] = text
        else:
            sign.shown.pop(number, None)

    def _watch_sign(self, sign: Sign) -> None:
        """Look at the line every SIGN_CHECK_SECONDS: a sign plugged back shows what the board shows."""
        was_up = sign.link.state == "online"
        while not self.stop_event.is_set():
            up = sign.link.probe()
            if up and not was_up:
                for number, text in list(self.wanted.items()):
                    if sign.covers(number):
                        self._write(sign, number, text, blink=False)
            was_up = up
            self.stop_event.wait(SIGN_CHECK_SECONDS)

    # -- the server ---------------------------------------------------------------------------
    def _report(self, device: str):
        def send(port: str, state: str, detail: str) -> None:
            answer = self._post("/api/v1/hardware/status",
                                {"device": device, "port": port, "state": state, "detail": detail[:200] or None})
            if answer is None or "error" in answer:
                # Loudly: a manager who never hears of it sees the device as it was for ever.
                log.error("the server did not take the report that %s %s is %s: %s", device, port, state,
                          (answer or {}).get("error", {}).get("message", "no answer"))

        def report(port: str, state: str, detail: str) -> None:
            threading.Thread(target=send, args=(port, state, detail), daemon=True).start()
        return report

    def _post(self, path: str, body: dict) -> dict | None:
        if self.config.centre is not None:
            body = {**body, "centre": self.config.centre}
        request = urllib.request.Request(
            self.config.server + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", KEY_HEADER: self.config.key})
        try:
            with urllib.request.urlopen(request, timeout=3) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return json.loads(exc.read())
            except ValueError:
                return {"error": {"code": f"http_{exc.code}", "message": str(exc)}}
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("bridge could not reach the server: %s", exc)
            return None


def run(config_path: str) -> None:
    try:
        bridge = HardwareBridge(BridgeConfig.load(config_path)).start()
    except BridgeRefused as exc:
        log.error("%s", exc)
        raise SystemExit(2) from exc
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        bridge.stop()
