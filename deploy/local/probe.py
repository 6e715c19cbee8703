"""Readiness probes for the local stack, standard library only (runs before any venv exists).

python3 probe.py kafka PORT   -> exit 0 when Kafka answers an ApiVersions request without error
python3 probe.py mongo PORT   -> exit 0 when a MongoDB `hello` command answers ok
python3 probe.py http PORT    -> exit 0 when GET /health answers 200 (the local SMS gateway)
python3 probe.py owner PORT   -> prints "pid command" of whatever listens on PORT (or nothing)
"""

from __future__ import annotations

import socket
import struct
import subprocess
import sys

HOST = "127.0.0.1"


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def kafka_ready(port: int) -> bool:
    """Send ApiVersions v0 and check it answers without error.

    The listener authenticates (SASL/SCRAM): before authentication it answers only ApiVersions and
    SaslHandshake, so this checks that the broker is serving requests, not who may do what.
    stack.sh then grants the ACLs as admin, which waits for the broker to be fully up.
    """
    client_id = b"stack-probe"
    request = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id  # key 18 = ApiVersions
    with socket.create_connection((HOST, port), timeout=2) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", _recv_exact(sock, 4))[0]
        response = _recv_exact(sock, size)
    correlation_id, error_code = struct.unpack(">ih", response[:6])
    return correlation_id == 7 and error_code == 0


def _bson_hello() -> bytes:
    def element_int(name: bytes, value: int) -> bytes:
        return b"\x10" + name + b"\x00" + struct.pack("<i", value)

    def element_str(name: bytes, value: bytes) -> bytes:
        return b"\x02" + name + b"\x00" + struct.pack("<i", len(value) + 1) + value + b"\x00"

    elements = element_int(b"hello", 1) + element_str(b"$db", b"admin")
    return struct.pack("<i", len(elements) + 5) + elements + b"\x00"


def mongo_ready(port: int) -> bool:
    """Send OP_MSG {hello: 1} and look for ok: 1.0 in the reply."""
    section = b"\x00" + _bson_hello()
    message = struct.pack("<I", 0) + section  # flag bits, then a body section
    header = struct.pack("<iiii", 16 + len(message), 1, 0, 2013)  # 2013 = OP_MSG
    with socket.create_connection((HOST, port), timeout=2) as sock:
        sock.sendall(header + message)
        length = struct.unpack("<i", _recv_exact(sock, 4))[0]
        reply = _recv_exact(sock, length - 4)
    ok_double_one = b"\x01ok\x00" + struct.pack("<d", 1.0)
    return ok_double_one in reply


def http_ready(port: int) -> bool:
    """GET /health answers 200 (the local SMS gateway)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
        return bool(answer.status == 200)


def port_owner(port: int) -> str:
    """Who listens on the port, as 'pid command', for a clear error message."""
    out = subprocess.run(
        ["ss", "-Hltnp", f"sport = :{port}"], capture_output=True, text=True, check=False
    ).stdout
    if not out.strip():
        return ""
    # users:(("java",pid=1234,fd=100))
    if "pid=" in out:
        pid = out.split("pid=", 1)[1].split(",", 1)[0]
        name = out.split('(("', 1)[1].split('"', 1)[0] if '(("' in out else "?"
        return f"{pid} {name}"
    return "? (unknown process)"


def main() -> int:
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "owner":
        owner = port_owner(port)
        if owner:
            print(owner)
        return 0
    probe = {"kafka": kafka_ready, "mongo": mongo_ready, "http": http_ready}[kind]
    try:
        return 0 if probe(port) else 1
    except (OSError, struct.error, ConnectionError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
