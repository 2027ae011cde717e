"""Websockets without permessage-deflate.

Every browser offers permessage-deflate, and simple-websocket accepts it: each message is then
compressed once for every socket it goes to, by a compressor each connection keeps (zlib state of
a few hundred kB). On a centre's LAN the bytes cost nothing and the processor is what runs short.
bench/load.py, its 70 sockets offering compression as browsers do, 300 tickets/s offered,
interleaved runs: with compression 4.20-4.35 ms of server CPU per request, 148-150 MB, 199-212
tickets/s; without 3.04-3.33 ms, 130-133 MB, 253-276 tickets/s. Removing the offer from the
upgrade request makes the handshake settle on plain frames, which every client accepts (the
extension is optional, RFC 7692).
"""
from __future__ import annotations

OFFER = "HTTP_SEC_WEBSOCKET_EXTENSIONS"


class WithoutCompression:
    """WSGI middleware: the websocket upgrade request reaches the server without the client's
    offer of extensions (permessage-deflate is the only one browsers send)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        environ.pop(OFFER, None)
        return self.app(environ, start_response)
