"""How bytes reach a printer: one small class per transport, over python-escpos where it has one.

A printer is described by plain settings (kiosk or centre configuration):

    {"transport": "preview", "width": 576}                         the demo: files under the data dir
    {"transport": "network", "host": "10.0.0.50", "port": 9100}
    {"transport": "serial", "device": "/dev/ttyUSB0", "baudrate": 115200, "flow": "rtscts"}
    {"transport": "usb", "vendor_id": "0x0416", "product_id": "0x5011"}
    {"transport": "device", "device": "/dev/usb/lp0"}

`width` (384, 512 or 576 dots) and `status_query` (default true) are common to all.
`check_settings` validates and normalises them.
"""
from __future__ import annotations

import os
import re
import select
import socket
import stat
import time
from datetime import datetime
from pathlib import Path

from .escpos_parse import decode
from .ticket import WIDTHS

TRANSPORTS = ("preview", "network", "serial", "usb", "device")
BAUD_RATES = (9600, 19200, 38400, 57600, 115200)
FLOW_CONTROLS = ("none", "rtscts", "dsrdtr", "xonxoff")
IO_TIMEOUT = 2.0


class SettingsError(ValueError):
    """A printer setting that cannot be used: `reason` is a code the admin pages put in words
    (hangdoi/messages.py, REASONS), `params` its figures; the text is for logs."""

    def __init__(self, field: str, reason: str, **params):
        figures = ", ".join(f"{k}={v}" for k, v in params.items())
        super().__init__(f"{field}: {reason}" + (f" ({figures})" if figures else ""))
        self.field, self.reason, self.params = field, reason, params


class PrinterUnavailable(OSError):
    """The printer could not be reached or stopped taking bytes."""


# -- settings ----------------------------------------------------------------------------------
def check_settings(raw) -> dict:
    if not isinstance(raw, dict):
        raise SettingsError("printer", "an_object")
    transport = raw.get("transport")
    if transport not in TRANSPORTS:
        raise SettingsError("transport", "one_of", choices=", ".join(TRANSPORTS))
    allowed = {"transport", "width", "status_query"} | set(_FIELDS[transport])
    unknown = set(raw) - allowed
    if unknown:
        raise SettingsError(sorted(unknown)[0], "unknown_setting")
    settings = {"transport": transport, "width": raw.get("width", 576)}
    if settings["width"] not in WIDTHS:
        raise SettingsError("width", "one_of", choices=", ".join(map(str, WIDTHS)))
    # Some cheap printers never answer DLE EOT; for them, print without asking.
    settings["status_query"] = raw.get("status_query", True)
    if not isinstance(settings["status_query"], bool):
        raise SettingsError("status_query", "true_or_false")
    for name, check in _FIELDS[transport].items():
        settings[name] = check(name, raw.get(name))
    return settings


def _text(required: bool = True, default: str | None = None):
    def check(name, value):
        if value is None and not required:
            return default
        if not isinstance(value, str) or not value.strip() or len(value) > 255:
            raise SettingsError(name, "length", n=255)
        return value.strip()
    return check


# Where printers appear on Linux: USB printer class, parallel ports, USB-serial and serial ports,
# their stable names, Bluetooth serial, and pseudo-terminals (virtual serial ports).
PRINTER_DEVICE = re.compile(r"/dev/(usb/lp\d+|lp\d+|ttyUSB\d+|ttyACM\d+|ttyS\d+|rfcomm\d+|pts/\d+"
                            r"|serial/by-(id|path)/[A-Za-z0-9._:+-]+)")


def _device_path():
    """A printer's device: only a character device under the known printer paths. The path is
    chosen by an admin and written to; pointed at an ordinary file it would truncate it (the
    database, the secret key)."""
    text = _text()

    def check(name, value):
        path = text(name, value)
        if not PRINTER_DEVICE.fullmatch(path):
            raise SettingsError(name, "printer_device")
        if os.path.exists(path) and not is_character_device(path):
            raise SettingsError(name, "not_a_device")
        return path
    return check


def is_character_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _int(low: int, high: int, default: int | None = None, choices=None):
    def check(name, value):
        if value is None and default is not None:
            return default
        if isinstance(value, str):
            try:
                value = int(value, 0)
            except ValueError:
                raise SettingsError(name, "out_of_range", minimum=low, maximum=high) from None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(name, "out_of_range", minimum=low, maximum=high)
        if choices and value not in choices:
            raise SettingsError(name, "one_of", choices=", ".join(map(str, choices)))
        return value
    return check


def _choice(options, default):
    def check(name, value):
        value = default if value is None else value
        if value not in options:
            raise SettingsError(name, "one_of", choices=", ".join(options))
        return value
    return check


_FIELDS = {
    "preview": {"folder": _text(required=False)},
    "network": {"host": _text(), "port": _int(1, 65535, 9100)},
    "serial": {"device": _device_path(), "baudrate": _int(1200, 921600, 9600, BAUD_RATES),
               "flow": _choice(FLOW_CONTROLS, "none")},
    "usb": {"vendor_id": _int(0, 0xFFFF), "product_id": _int(0, 0xFFFF)},
    "device": {"device": _device_path()},
}


def printer_key(settings: dict) -> str:
    """One name per physical printer: two kiosks sharing a printer share its queue."""
    t = settings["transport"]
    where = {"preview": settings.get("folder") or "", "network": f"{settings.get('host')}:{settings.get('port')}",
             "serial": settings.get("device"), "usb": f"{settings.get('vendor_id')}:{settings.get('product_id')}",
             "device": settings.get("device")}[t]
    return f"{t}:{where}"


# -- transports --------------------------------------------------------------------------------
class Transport:
    can_read = False

    def seconds_to_send(self, size: int) -> float:
        return 0.0

    def open(self) -> None: ...
    def write(self, data: bytes) -> None: raise NotImplementedError
    def read(self, size: int, timeout: float) -> bytes: return b""
    def drain_input(self) -> None: ...
    def close(self) -> None: ...


class EscposTransport(Transport):
    """A python-escpos printer object, opened per job: a printer unplugged between tickets is then
    simply opened again when it is back."""

    def __init__(self, printer):
        self.printer = printer

    def open(self) -> None:
        try:
            self.printer.open()
        except Exception as exc:   # python-escpos raises its own errors, or OSError, or usb errors
            raise PrinterUnavailable(str(exc)) from exc

    def write(self, data: bytes) -> None:
        try:
            self.printer._raw(data)
        except Exception as exc:
            raise PrinterUnavailable(str(exc)) from exc

    def close(self) -> None:
        try:
            self.printer.close()
        except Exception:  # noqa: BLE001 — closing a broken connection may fail; nothing to do
            pass


class NetworkTransport(EscposTransport):
    can_read = True

    def __init__(self, host: str, port: int = 9100):
        from escpos.printer import Network
        super().__init__(Network(host, port, timeout=IO_TIMEOUT))

    def read(self, size: int, timeout: float) -> bytes:
        sock = self.printer.device
        sock.settimeout(timeout)
        try:
            return sock.recv(size)
        except (TimeoutError, socket.timeout):
            return b""
        except OSError as exc:
            raise PrinterUnavailable(str(exc)) from exc
        finally:
            sock.settimeout(IO_TIMEOUT)

    def drain_input(self) -> None:
        sock = self.printer.device
        while select.select([sock], [], [], 0)[0]:
            try:
                if not sock.recv(256):
                    return
            except OSError:
                return


class SerialTransport(EscposTransport):
    can_read = True

    def __init__(self, device: str, baudrate: int = 9600, flow: str = "none"):
        from escpos.printer import Serial
        super().__init__(Serial(device, baudrate=baudrate, timeout=IO_TIMEOUT,
                                xonxoff=flow == "xonxoff", dsrdtr=flow == "dsrdtr"))
        self.flow = flow

    def open(self) -> None:
        super().open()
        port = self.printer.device
        port.rtscts = self.flow == "rtscts"

    def write(self, data: bytes) -> None:
        # A printer holding flow control must not hold us forever, but a slow line needs its time:
        # 14 KB take 15 s at 9600 baud.
        self.printer.device.write_timeout = IO_TIMEOUT + self.seconds_to_send(len(data))
        super().write(data)

    def read(self, size: int, timeout: float) -> bytes:
        port = self.printer.device
        port.timeout = timeout
        try:
            return port.read(size)
        except Exception as exc:  # noqa: BLE001 — pyserial raises SerialException or OSError
            raise PrinterUnavailable(str(exc)) from exc

    def drain_input(self) -> None:
        self.printer.device.reset_input_buffer()

    def seconds_to_send(self, size: int) -> float:
        return size * 10 / self.printer.baudrate     # 8N1: ten bits on the line per byte

    def close(self) -> None:
        # python-escpos flushes before closing, which waits for a stuck printer forever. Wait
        # for the bytes to leave, for as long as the line needs, then let go.
        port = getattr(self.printer, "device", None)
        try:
            if port is not None and port.is_open:
                deadline = time.monotonic() + IO_TIMEOUT + self.seconds_to_send(port.out_waiting)
                while port.out_waiting and time.monotonic() < deadline:
                    time.sleep(0.01)
                if port.out_waiting:    # a printer that stopped taking bytes: drop the rest
                    port.reset_output_buffer()
                port.close()
        except Exception:  # noqa: BLE001
            pass
        self.printer._device = False


class UsbTransport(EscposTransport):
    can_read = True

    def __init__(self, vendor_id: int, product_id: int):
        from escpos.printer import Usb
        super().__init__(Usb(vendor_id, product_id, timeout=int(IO_TIMEOUT * 1000)))

    def read(self, size: int, timeout: float) -> bytes:
        printer = self.printer
        try:
            return bytes(printer.device.read(printer.in_ep, size, int(timeout * 1000)))[:size]
        except Exception:  # noqa: BLE001 — a usb timeout means no answer
            return b""

    def drain_input(self) -> None:
        while self.read(64, 0.01):
            pass


class DeviceFileTransport(EscposTransport):
    """A printer character device such as /dev/usb/lp0: writes only, no status."""

    def __init__(self, device: str):
        from escpos.printer import File
        super().__init__(File(device))
        self.device = device

    def open(self) -> None:
        if not os.path.exists(self.device):
            raise PrinterUnavailable(f"{self.device} does not exist")
        # Settings stored before paths were checked may name an ordinary file: never write to one.
        if not PRINTER_DEVICE.fullmatch(self.device) or not is_character_device(self.device):
            raise PrinterUnavailable(f"{self.device} is not a printer device")
        super().open()


class PreviewTransport(Transport):
    """Writes each job where anyone can open it: the ESC/POS bytes (.bin) and, decoded back from
    those very bytes, the picture a printer would have made (.png)."""

    def __init__(self, folder: Path, width: int = 576, label: str = ""):
        self.folder = Path(folder)
        self.width = width
        self.label = "".join(c for c in label if c.isalnum())
        self.buffer = bytearray()

    def write(self, data: bytes) -> None:
        self.buffer += data

    def close(self) -> None:
        if not self.buffer:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / "-".join(filter(None, [datetime.now().strftime("%Y%m%d-%H%M%S-%f"), self.label]))
        stem.with_suffix(".bin").write_bytes(bytes(self.buffer))
        tickets = decode(bytes(self.buffer), self.width).tickets
        if tickets:
            tickets[-1].save(stem.with_suffix(".png"))
        self.buffer.clear()


def open_transport(settings: dict, preview_folder: Path, label: str = "") -> Transport:
    t = settings["transport"]
    if t == "preview":
        return PreviewTransport(Path(settings.get("folder") or preview_folder), settings["width"], label)
    if t == "network":
        return NetworkTransport(settings["host"], settings["port"])
    if t == "serial":
        return SerialTransport(settings["device"], settings["baudrate"], settings["flow"])
    if t == "usb":
        return UsbTransport(settings["vendor_id"], settings["product_id"])
    return DeviceFileTransport(settings["device"])
