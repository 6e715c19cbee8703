"""Grant the local stack's Kafka ACLs (deploy/local/kafka/acls.conf), standard library only.

    python3 kafka_acls.py PORT ADMIN_ENV_FILE ACL_SPEC [PREFIX ...]

One connection, SASL/SCRAM-SHA-512 as admin, one CreateAcls request with every binding: a JVM per
AclCommand call cost seconds each on a busy machine. Creating an ACL that exists is a no-op, so
this is idempotent. Each line of the spec (`principal consumes|produces topic,topic`) becomes:

    consumes  Read + Describe + Create on the topics, Read on the group `<prefix><principal>`
    produces  Write + Describe + Create on the topics, IdempotentWrite on the cluster

for the plain names and each PREFIX.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import struct
import sys
from pathlib import Path

HOST = "127.0.0.1"
TOPIC, GROUP, CLUSTER = 2, 3, 4  # resource types
LITERAL = 3  # pattern type
READ, WRITE, CREATE, DESCRIBE, IDEMPOTENT_WRITE = 3, 4, 5, 8, 12  # operations
ALLOW = 3  # permission type

Binding = tuple[int, str, str, int]  # resource type, resource name, principal, operation


def bindings(spec: str, prefixes: list[str]) -> list[Binding]:
    found: list[Binding] = []
    for line in spec.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, role, topics = line.split()
        principal = f"User:{name}"
        for prefix in ["", *prefixes]:
            for topic in topics.split(","):
                operations = {
                    "consumes": (READ, DESCRIBE, CREATE),
                    "produces": (WRITE, DESCRIBE, CREATE),
                }
                if role not in operations:
                    raise ValueError(f"acls.conf: unknown role {role!r} (consumes or produces)")
                found += [(TOPIC, prefix + topic, principal, op) for op in operations[role]]
            if role == "consumes":
                found.append((GROUP, prefix + name, principal, READ))
        if role == "produces":
            found.append((CLUSTER, "kafka-cluster", principal, IDEMPOTENT_WRITE))
    return sorted(set(found))


# --- the wire: request header v1, non-flexible versions ------------------------------------------


def _string(value: str) -> bytes:
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def _bytes(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value


class Connection:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.correlation = 0

    def call(self, api_key: int, version: int, body: bytes) -> bytes:
        self.correlation += 1
        header = struct.pack(">hhi", api_key, version, self.correlation) + _string("stack-acls")
        request = header + body
        self.sock.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", self._recv(4))[0]
        response = self._recv(size)
        if struct.unpack(">i", response[:4])[0] != self.correlation:
            raise ConnectionError("answer to another request")
        return response[4:]

    def _recv(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed")
            data += chunk
        return data


def _read_string(data: bytes, at: int) -> tuple[str | None, int]:
    length = struct.unpack(">h", data[at : at + 2])[0]
    if length < 0:
        return None, at + 2
    return data[at + 2 : at + 2 + length].decode(), at + 2 + length


def authenticate(conn: Connection, username: str, password: str) -> None:
    """SaslHandshake v1 then SCRAM-SHA-512 (RFC 5802) over SaslAuthenticate v1."""
    answer = conn.call(17, 1, _string("SCRAM-SHA-512"))
    if struct.unpack(">h", answer[:2])[0] != 0:
        raise PermissionError("the broker does not offer SCRAM-SHA-512")

    def exchange(message: bytes) -> bytes:
        answer = conn.call(36, 1, _bytes(message))
        error = struct.unpack(">h", answer[:2])[0]
        text, at = _read_string(answer, 2)
        if error:
            raise PermissionError(f"SASL authentication failed: {text}")
        size = struct.unpack(">i", answer[at : at + 4])[0]
        return answer[at + 4 : at + 4 + size]

    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={username},r={nonce}"
    server_first = exchange(f"n,,{first_bare}".encode()).decode()
    fields = dict(item.split("=", 1) for item in server_first.split(","))
    if not fields["r"].startswith(nonce):
        raise PermissionError("SCRAM: the server's nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(fields["s"]), int(fields["i"])
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha512).digest()
    final_bare = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(hashlib.sha512(client_key).digest(), auth_message, hashlib.sha512).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    server_final = exchange(f"{final_bare},p={base64.b64encode(proof).decode()}".encode()).decode()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha512).digest()
    expected = hmac.new(server_key, auth_message, hashlib.sha512).digest()
    if server_final != f"v={base64.b64encode(expected).decode()}":
        raise PermissionError("SCRAM: the server could not prove it knows the password")


def create_acls(conn: Connection, wanted: list[Binding]) -> None:
    """CreateAcls v1, all bindings in one request; any refusal is an error."""
    body = struct.pack(">i", len(wanted))
    for resource_type, name, principal, operation in wanted:
        body += struct.pack(">b", resource_type) + _string(name) + struct.pack(">b", LITERAL)
        body += _string(principal) + _string("*") + struct.pack(">bb", operation, ALLOW)
    answer = conn.call(30, 1, body)
    count = struct.unpack(">i", answer[4:8])[0]
    at, failures = 8, []
    for binding in wanted[:count]:
        error = struct.unpack(">h", answer[at : at + 2])[0]
        text, at = _read_string(answer, at + 2)
        if error:
            failures.append(f"{binding}: error {error} {text or ''}")
    if failures:
        raise RuntimeError("CreateAcls refused:\n" + "\n".join(failures))


def main() -> int:
    port, env_file, spec_file, *prefixes = sys.argv[1:]
    env = dict(
        line.split("=", 1) for line in Path(env_file).read_text().splitlines() if "=" in line
    )
    wanted = bindings(Path(spec_file).read_text(), prefixes)
    conn = Connection(int(port))
    try:
        authenticate(conn, env["KAFKA_SASL_USERNAME"], env["KAFKA_SASL_PASSWORD"])
        create_acls(conn, wanted)
    finally:
        conn.sock.close()
    print(len(wanted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
