"""A TCP proxy that breaks the link between a centre and its province the ways a commune's line does:
cut (every connection refused or dropped), delayed (each chunk held for a while), a connection
dropped after so many bytes went up (mid-batch), or the answer lost (the province committed, the
centre never heard). Real sockets, real server: only the wire misbehaves."""
from __future__ import annotations

import socket
import threading
import time


class FaultyLink:
    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.cut = False                 # every new connection is closed at once; open ones are dropped
        self.delay = 0.0                 # seconds each chunk waits, both ways
        self.drop_up_after: int | None = None      # drop the next connection once this many bytes went up
        self.lose_answers = 0            # the next n answers are swallowed and their connection dropped
        self.connections = 0
        self.dropped = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_link(self) -> None:
        self.cut = True
        with self._lock:
            for s in list(self._open):
                _close(s)

    def restore(self) -> None:
        self.cut = False

    def close(self) -> None:
        self._closed = True
        self.cut_link()
        _close(self.listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            if self.cut:
                _close(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._open.update((client, upstream))
        budget = self.drop_up_after
        self.drop_up_after = None
        lose = False
        if self.lose_answers:
            self.lose_answers -= 1
            lose = True
        done = threading.Event()
        threading.Thread(target=self._pipe, args=(client, upstream, budget, False, done), daemon=True).start()
        self._pipe(upstream, client, None, lose, done)

    def _pipe(self, source, target, budget, lose, done) -> None:
        sent = 0
        try:
            while not done.is_set():
                chunk = source.recv(65536)
                if not chunk:
                    break
                if self.delay:
                    time.sleep(self.delay)
                if self.cut:
                    break
                if budget is not None and sent + len(chunk) > budget:
                    target.sendall(chunk[:max(0, budget - sent)])
                    self.dropped += 1
                    break
                if lose:
                    # The province answered (so it committed); the centre gets nothing but a reset.
                    self.dropped += 1
                    break
                target.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            done.set()
            for s in (source, target):
                _close(s)
            with self._lock:
                self._open.difference_update((source, target))


def _close(s: socket.socket) -> None:
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST, not FIN
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
