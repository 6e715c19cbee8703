"""The HTTP protocol the services' uvicorn speaks: httptools (C) with a bound on a request's head.

h11, uvicorn's pure-Python protocol, refuses a request whose head (target and headers) is still
incomplete past 16 KiB; uvicorn's httptools protocol keeps whatever comes, so one connection could
make a service hold any amount of memory before the application sees the request (the body is
`limits.BodyLimit`'s). `BoundedHttpToolsProtocol` counts the head as it arrives and, once it
passes `MAX_HEAD_BYTES`, answers 400 and closes the connection, as uvicorn does for h11.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Most bytes of a request's target and headers (h11's bound in uvicorn, 16 KiB).
MAX_HEAD_BYTES = 16 * 1024
#: What a header costs besides its name and value (": " and the line's end): many empty
#: headers count too.
HEADER_OVERHEAD = 4


class HeadTooLarge(Exception):
    """A request's target and headers passed MAX_HEAD_BYTES."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Two counts of the head, either of which passing the bound refuses it: the target and
    headers httptools reported (`_head_bytes`, checked at each header: a head that came in
    one read), and the reads that ended with the head still incomplete (`_received`, checked
    after each: httptools reports a header only once it is whole, so a header still arriving
    is refused one read late at most, not when it ends)."""

    _in_head = True
    _head_bytes = 0
    _received = 0
    _restarted = False

    def data_received(self, data: bytes) -> None:
        self._restarted = False
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        if not self._restarted:  # else part of this read was the request before
            self._received += len(data)
        if self._received > MAX_HEAD_BYTES:
            self.logger.warning("Request target and headers over %d bytes.", MAX_HEAD_BYTES)
            self.send_400_response("Request target and headers too large.")

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + HEADER_OVERHEAD)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._received = True, 0, 0
        self._restarted = True

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            # Raised in a parser callback: httptools makes it the HttpParserError that uvicorn
            # answers with 400 and a closed connection.
            raise HeadTooLarge(f"request target and headers over {MAX_HEAD_BYTES} bytes")
