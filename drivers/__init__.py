"""Hardware adapters: ticket printers (printer/), and the serial keypads and counter LED signs.

Each device has a small interface, one class per transport or vendor protocol, and a fake device
that really speaks the protocol (a TCP port, a pty) for tests and for trying things without hardware.
"""
