"""Printing to printers that really exist here: a TCP port, a pty, files; and every fault they have."""
from __future__ import annotations

import os
import socket
import threading
import time
import tty

import pytest
from PIL import ImageChops

from drivers.printer import status as st
from drivers.printer.fake import PtyFakePrinter, TcpFakePrinter
from drivers.printer.service import TIMEOUT, PrinterPool
from drivers.printer.ticket import PrintedTicket, render
from drivers.printer.transports import SettingsError, check_settings

TICKET = PrintedTicket(centre="Trung tâm thử nghiệm", domain="Tư pháp – Hộ tịch", service="Đăng ký khai sinh",
                       number="1001", issued_at="09:00 · Thứ Hai, 23/11/2026", status_url="http://hangdoi/t/abc",
                       people_ahead=3, counters=(1,))


@pytest.fixture
def pool(tmp_path):
    changes = []
    pool = PrinterPool(tmp_path / "printed", on_status=lambda key, state: changes.append(state))
    pool.changes = changes
    return pool


@pytest.fixture(params=["network", "serial"])
def printer(request):
    fake = TcpFakePrinter() if request.param == "network" else PtyFakePrinter()
    yield fake
    fake.close()


def same_picture(a, b) -> bool:
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def test_a_ticket_comes_out_as_rendered(pool, printer):
    result = pool.print(check_settings(printer.settings), TICKET)
    assert result.printed and result.state == st.READY
    assert len(printer.tickets) == 1 and not printer.errors
    assert same_picture(printer.tickets[0], render(TICKET, 576))
    assert printer.queries[:2] == [1, 4]          # asked before printing, and again after
    assert pool.changes == [st.READY]


def test_paper_out_prints_nothing_and_says_so(pool, printer):
    printer.paper = False
    result = pool.print(check_settings(printer.settings), TICKET)
    assert (result.printed, result.state) == (False, st.PAPER_OUT)
    assert printer.tickets == [] and b"\x1dv0" not in printer.received
    printer.paper = True
    assert pool.print(check_settings(printer.settings), TICKET).printed
    assert pool.changes == [st.PAPER_OUT, st.READY]


def test_paper_running_out_during_the_ticket_counts_as_not_printed(pool):
    fake = TcpFakePrinter()
    try:
        original = fake.take

        def run_out_half_way(data):
            original(data)
            if b"\x1dv0" in data:
                fake.paper = False
        fake.take = run_out_half_way
        result = pool.print(check_settings(fake.settings), TICKET)
        assert (result.printed, result.state) == (False, st.PAPER_OUT)
    finally:
        fake.close()


def test_cover_open_and_low_paper(pool, printer):
    printer.cover_open = True
    assert pool.print(check_settings(printer.settings), TICKET).state == st.COVER_OPEN
    printer.cover_open, printer.paper_low = False, True
    result = pool.print(check_settings(printer.settings), TICKET)
    assert result.printed and result.state == st.PAPER_LOW


def test_a_printer_that_never_answers_holds_no_one_up(pool, printer):
    printer.mute = True
    started = time.monotonic()
    result = pool.print(check_settings(printer.settings), TICKET)
    assert time.monotonic() - started < 3.0
    assert (result.printed, result.state) == (False, st.NO_ANSWER)
    assert printer.tickets == []


def test_a_stalled_printer_times_out_within_three_seconds_and_the_late_job_never_prints(tmp_path):
    fake = TcpFakePrinter()
    try:
        fake.stalled = True
        pool = PrinterPool(tmp_path, limit=1.0)
        settings = check_settings({**fake.settings})
        started = time.monotonic()
        result = pool.print(settings, TICKET)
        assert time.monotonic() - started < 1.5
        assert not result.printed and result.state in (TIMEOUT, st.NO_ANSWER)
        fake.stalled = False
        time.sleep(2.5)
        assert fake.tickets == []      # the citizen was told it failed; it must not appear later
    finally:
        fake.close()


def test_unplugged_mid_job_then_plugged_back(pool):
    fake = TcpFakePrinter()
    try:
        fake.unplug_mid_ticket = True
        settings = check_settings(fake.settings)
        result = pool.print(settings, TICKET)
        assert not result.printed and result.state in (st.OFFLINE, st.NO_ANSWER)
        fake.unplug_mid_ticket = False
        assert pool.print(settings, TICKET).printed
        assert pool.changes[-2:] == [result.state, st.READY]
    finally:
        fake.close()


def test_a_printer_that_is_not_there_is_offline_at_once(pool):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]           # bound but not listening: connection refused
        started = time.monotonic()
        result = pool.print(check_settings({"transport": "network", "host": "127.0.0.1", "port": port}), TICKET)
    assert (result.printed, result.state) == (False, st.OFFLINE)
    assert time.monotonic() - started < 1
    missing = pool.print(check_settings({"transport": "serial", "device": "/dev/ttyUSB97"}), TICKET)
    assert (missing.printed, missing.state) == (False, st.OFFLINE)


def test_the_preview_sink_keeps_the_picture_and_the_bytes(pool, tmp_path):
    result = pool.print(check_settings({"transport": "preview", "width": 384}), TICKET, label="1001")
    assert result.printed
    files = sorted(p.suffix for p in (tmp_path / "printed").iterdir())
    assert files == [".bin", ".png"]
    png = next((tmp_path / "printed").glob("*-1001.png"))
    from PIL import Image
    assert same_picture(Image.open(png), render(TICKET, 384))


def test_a_device_file_gets_the_raw_bytes(pool, tmp_path):
    master, slave = os.openpty()                  # a character device, as /dev/usb/lp0 is
    device = os.ttyname(slave)
    tty.setraw(master)
    tty.setraw(slave)
    received = bytearray()
    reader = threading.Thread(target=lambda: _read_all(master, received), daemon=True)
    reader.start()
    result = pool.print(check_settings({"transport": "device", "device": device}), TICKET)
    assert result.printed and result.state == st.UNKNOWN
    deadline = time.monotonic() + 5
    while not received.endswith(b"\x1dVB\x03") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert received.startswith(b"\x1b@") and received.endswith(b"\x1dVB\x03")
    os.close(slave)
    gone = pool.print(check_settings({"transport": "device", "device": "/dev/usb/lp97"}), TICKET)
    assert (gone.printed, gone.state) == (False, st.OFFLINE)
    os.close(master)


def _read_all(fd: int, into: bytearray) -> None:
    try:
        while chunk := os.read(fd, 65536):
            into.extend(chunk)
    except OSError:
        pass


def test_a_printer_path_is_never_an_ordinary_file(pool, tmp_path):
    """The attack: an admin's printer `device` pointed at any file truncated it with printer bytes
    (as the service user, that is the database and the secret key)."""
    precious = tmp_path / "hangdoi.sqlite3"
    precious.write_bytes(b"SQLite format 3\x00 everything")
    for path in (str(precious), "/etc/passwd", "/dev/../tmp/x", "/dev/usb/lp0/../../../tmp/x", "/dev/null", ""):
        for transport in ("device", "serial"):
            with pytest.raises(SettingsError):
                check_settings({"transport": transport, "device": path})
    # Settings stored before paths were checked are refused when printing, and the file is untouched.
    stored = {**check_settings({"transport": "device", "device": "/dev/usb/lp0"}), "device": str(precious)}
    result = pool.print(stored, TICKET)
    assert (result.printed, result.state) == (False, st.OFFLINE)
    assert precious.read_bytes() == b"SQLite format 3\x00 everything"


def test_a_printer_without_status_support_still_prints(pool, printer):
    printer.mute = True
    result = pool.print(check_settings({**printer.settings, "status_query": False}), TICKET)
    assert result.printed and result.state == st.UNKNOWN
    deadline = time.monotonic() + 2     # nothing to wait for on the wire: the bytes are on their way
    while not printer.tickets and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(printer.tickets) == 1


@pytest.mark.parametrize("settings, field", [
    ("tcp", "printer"),
    ({"transport": "fax"}, "transport"),
    ({"transport": "network"}, "host"),
    ({"transport": "network", "host": "10.0.0.5", "port": 70000}, "port"),
    ({"transport": "serial", "device": "/dev/ttyS0", "baudrate": 12345}, "baudrate"),
    ({"transport": "serial", "device": "/dev/ttyS0", "flow": "magic"}, "flow"),
    ({"transport": "usb", "vendor_id": "0xZZ", "product_id": 1}, "vendor_id"),
    ({"transport": "preview", "width": 600}, "width"),
    ({"transport": "preview", "host": "x"}, "host"),
    ({"transport": "preview", "status_query": "yes"}, "status_query"),
])
def test_wrong_printer_settings_are_refused_by_name(settings, field):
    with pytest.raises(SettingsError) as error:
        check_settings(settings)
    assert error.value.field == field


def test_usb_ids_may_be_written_in_hex():
    assert check_settings({"transport": "usb", "vendor_id": "0x0416", "product_id": 20497}) == {
        "transport": "usb", "width": 576, "status_query": True, "vendor_id": 0x0416, "product_id": 0x5011}


class FakeUsbBus:
    """The one thing that cannot exist here is a USB bus: this stands in for pyusb's device under
    python-escpos, with the printer behind it being the same FakePrinter the other transports use."""

    def __init__(self, printer):
        self.printer = printer
        # What pyusb's dispose_resources reaches for when python-escpos lets go of the device.
        self._ctx = type("Context", (), {"dispose": lambda *args, **kwargs: None})()

    def write(self, endpoint, data, timeout=None):
        self.printer.take(bytes(data))
        return len(data)

    def read(self, endpoint, size, timeout=None):
        answer = self.printer.answers()
        if not answer:
            import usb.core
            raise usb.core.USBTimeoutError("timeout", 110, 110)
        return answer[:size]


def test_usb_printers_print_and_report_through_python_escpos(pool, monkeypatch):
    from escpos.printer import Usb

    from drivers.printer.fake import FakePrinter

    fake = FakePrinter()

    def plug_in(self, raise_not_found=True):
        self._device, self.in_ep, self.out_ep = FakeUsbBus(fake), 0x82, 0x01
    monkeypatch.setattr(Usb, "open", plug_in)
    monkeypatch.setattr(Usb, "close", lambda self: None)
    settings = check_settings({"transport": "usb", "vendor_id": "0x0416", "product_id": "0x5011"})
    result = pool.print(settings, TICKET)
    assert result.printed and result.state == st.READY and len(fake.tickets) == 1
    fake.paper = False
    assert pool.print(settings, TICKET).state == st.PAPER_OUT
