"""Keypads and LED signs: their frames, on pyserial's loop:// and on real pty pairs, with faults."""
from __future__ import annotations

import os
import select
import time
import tty

import pytest
import serial

from drivers.keypad import BadFrame, KeyPress, LineKeypad, line_frame
from drivers.led import AsciiLed, ModbusLed, crc16_modbus
from drivers.serial_link import DOWN, UP, SerialLink


def test_a_keypad_line_is_one_press():
    keypad = LineKeypad()
    assert keypad.feed(b"#3:NEXT\r\n") == [KeyPress(3, "NEXT")]
    assert keypad.feed(b"#12:TRANSFER:5\n") == [KeyPress(12, "TRANSFER", 5)]
    assert KeyPress(12, "TRANSFER", 5).action == "transfer"


def test_presses_split_and_joined_anyhow_come_out_whole():
    keypad = LineKeypad()
    stream = line_frame(1, "NEXT") + line_frame(2, "RECALL") + line_frame(1, "FINISH")
    out = []
    for i in range(0, len(stream), 3):
        out += keypad.feed(stream[i:i + 3])
    assert out == [KeyPress(1, "NEXT"), KeyPress(2, "RECALL"), KeyPress(1, "FINISH")]


@pytest.mark.parametrize("garbage, reason", [
    (b"#3:FIRE\r\n", "unknown key"),
    (b"#3:TRANSFER\r\n", "TRANSFER needs"),
    (b"#3:NEXT:4\r\n", "TRANSFER needs"),
    (b"#x:NEXT\r\n", "not #"),
    (b"#0:NEXT\r\n", "out of range"),
])
def test_malformed_frames_are_dropped_not_guessed(garbage, reason):
    out = LineKeypad().feed(garbage)
    assert len(out) == 1 and isinstance(out[0], BadFrame) and reason in out[0].reason


def test_noise_before_a_frame_and_an_endless_line_do_not_stop_the_next_press():
    keypad = LineKeypad()
    out = keypad.feed(b"\x00\xff\x13garbage#4:NEXT\r\n")
    assert [o for o in out if isinstance(o, KeyPress)] == [KeyPress(4, "NEXT")]
    out = keypad.feed(b"#" + b"9" * 100 + b"#5:RECALL\r\n")
    assert [o for o in out if isinstance(o, KeyPress)] == [KeyPress(5, "RECALL")]
    assert any(isinstance(o, BadFrame) for o in out)


@pytest.mark.parametrize("protocol", [AsciiLed(), ModbusLed()])
@pytest.mark.parametrize("text", ["1005", "A012", "", "Đ007"])
def test_led_frames_carry_number_and_blink(protocol, text):
    for blink in (True, False):
        address, shown, blinking = protocol.parse(protocol.frame(7, text, blink))
        assert (address, shown, blinking) == (7, text.replace("Đ", "D"), blink)


def test_led_frames_are_exactly_as_documented():
    assert AsciiLed().frame(3, "1005", True) == b"\x02N03B1005\x030B"
    modbus = ModbusLed().frame(3, "1005", True)
    assert modbus[:7] == bytes([3, 0x10, 0, 0, 0, 4, 8])                # slave 3, write 4 registers
    assert modbus[7:15] == bytes([0x03, 0xED, 0, 0, 0, 1, 0, 4])        # 1005, no prefix, blink, 4 digits
    assert crc16_modbus(b"\x01\x03\x00\x00\x00\x0a") == 0xCDC5          # the textbook example


def test_a_corrupted_led_frame_is_refused():
    frame = bytearray(ModbusLed().frame(3, "1005", True))
    frame[8] ^= 0x01
    with pytest.raises(ValueError):
        ModbusLed.parse(bytes(frame))
    with pytest.raises(ValueError):
        AsciiLed.parse(b"\x02N03B1005\x03FF")


def test_frames_travel_through_a_loopback_port():
    link = SerialLink("loop://", 9600)
    assert link.write(line_frame(2, "NOSHOW"))
    received = b""
    deadline = time.monotonic() + 2
    while not received.endswith(b"\n") and time.monotonic() < deadline:
        received += link.read()
    assert LineKeypad().feed(received) == [KeyPress(2, "NOSHOW")]
    assert link.state == UP
    link.close()


def test_a_missing_port_is_reported_and_retried_with_back_off(tmp_path):
    states = []
    link = SerialLink(str(tmp_path / "ttyUSB9"), on_state=lambda url, state, detail: states.append(state))
    assert link.write(b"x") is False
    assert link.read() == b""
    assert states == [DOWN]
    first_retry = link._retry_at - time.monotonic()
    link._retry_at = 0
    assert link.write(b"x") is False
    assert link._retry_at - time.monotonic() > first_retry      # waits longer each time
    assert states == [DOWN]                                     # reported once, not on every try


def test_unplugged_and_plugged_back_on_a_pty(tmp_path):
    states = []
    master, slave = os.openpty()
    tty.setraw(slave)
    path = tmp_path / "ttyUSB0"
    os.symlink(os.ttyname(slave), path)
    link = SerialLink(str(path), on_state=lambda url, state, detail: states.append(state))
    assert link.write(b"#1:NEXT\r\n")
    assert select.select([master], [], [], 1)[0] and os.read(master, 100) == b"#1:NEXT\r\n"
    os.write(master, b"#1:RECALL\r\n")
    assert wait_read(link) == b"#1:RECALL\r\n"
    # The adapter is pulled out: the device vanishes.
    os.close(master)
    os.close(slave)
    path.unlink()
    for _ in range(3):
        link.write(b"#1:NEXT\r\n")
        link.read()
    assert states[-1] == DOWN
    # Plugged back in (as a new pty behind the same name).
    master, slave = os.openpty()
    tty.setraw(slave)
    os.symlink(os.ttyname(slave), path)
    link._retry_at = 0
    assert link.write(b"#1:FINISH\r\n")
    assert states[-1] == UP
    assert select.select([master], [], [], 1)[0] and os.read(master, 100) == b"#1:FINISH\r\n"
    link.close()
    os.close(master)
    os.close(slave)


def wait_read(link, timeout=2.0) -> bytes:
    data, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline and not data.endswith(b"\n"):
        data += link.read()
    return data


def test_pyserial_is_what_we_think_it_is():
    assert serial.serial_for_url("loop://").is_open
