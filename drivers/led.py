"""Counter LED signs on a serial line: show the called number, blinking on a new call.

Two built-in protocols, addressed by counter number; a vendor's is one class with `frame()`:

- `AsciiLed` ("ascii"): STX 'N' <address: 2 digits> <mode: 'B' blink | 'S' steady> <text, up to 8
  ASCII characters> ETX <checksum: XOR of the bytes between STX and ETX, 2 hex digits>.
  Example: b"\\x02N03B1005\\x030B".
- `ModbusLed` ("modbus"): Modbus RTU, 9600 8N1, slave = counter number, function 16 (write
  multiple registers) from register 0: [number, prefix letter (0: none), blink (0/1), digits shown
  (for leading zeros: A012 is 12 with 3 digits)] + CRC-16.
  That is how the common LED-485 boards take a number.
"""
from __future__ import annotations

import re
import struct

STX, ETX = 0x02, 0x03
NUMBER = re.compile(r"^([A-Z]?)(\d{0,5})$")


def ascii_text(text: str) -> str:
    """LED boards know ASCII only: Đ becomes D, anything else unknown a space."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c if 32 <= ord(c) < 127 else " " for c in text)[:8]


class AsciiLed:
    def frame(self, address: int, text: str, blink: bool) -> bytes:
        body = f"N{address:02d}{'B' if blink else 'S'}{ascii_text(text)}".encode("ascii")
        checksum = 0
        for b in body:
            checksum ^= b
        return bytes([STX]) + body + bytes([ETX]) + f"{checksum:02X}".encode()

    @staticmethod
    def parse(frame: bytes) -> tuple[int, str, bool]:
        """(address, text, blink) of a frame; ValueError when it is not one."""
        if len(frame) < 8 or frame[0] != STX or frame[-3] != ETX:
            raise ValueError("not an LED frame")
        body = frame[1:-3]
        checksum = 0
        for b in body:
            checksum ^= b
        if f"{checksum:02X}".encode() != frame[-2:]:
            raise ValueError("bad checksum")
        if body[:1] != b"N" or body[3:4] not in (b"B", b"S"):
            raise ValueError("bad command")
        return int(body[1:3]), body[4:].decode("ascii"), body[3:4] == b"B"


def crc16_modbus(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


class ModbusLed:
    def frame(self, address: int, text: str, blink: bool) -> bytes:
        match = NUMBER.match(ascii_text(text).strip().upper())
        prefix, digits = (match[1], match[2]) if match else ("", "")
        registers = [int(digits) if digits else 0, ord(prefix) if prefix else 0, 1 if blink else 0, len(digits)]
        pdu = struct.pack(">BBHHB", address, 0x10, 0, len(registers), 2 * len(registers))
        pdu += b"".join(struct.pack(">H", r) for r in registers)
        return pdu + struct.pack("<H", crc16_modbus(pdu))

    @staticmethod
    def parse(frame: bytes) -> tuple[int, str, bool]:
        if len(frame) < 9 or crc16_modbus(frame[:-2]) != struct.unpack("<H", frame[-2:])[0]:
            raise ValueError("bad CRC")
        address, function, start, count, size = struct.unpack(">BBHHB", frame[:7])
        if function != 0x10 or start != 0 or count != 4 or size != 8:
            raise ValueError("not a write of registers 0-3")
        number, prefix, blink, digits = struct.unpack(">HHHH", frame[7:15])
        text = (chr(prefix) if prefix else "") + (str(number).zfill(digits) if digits else "")
        return address, text, bool(blink)


PROTOCOLS = {"ascii": AsciiLed, "modbus": ModbusLed}
