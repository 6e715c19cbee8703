"""The container's health check (Dockerfile HEALTHCHECK): exit 0 when the service answers ready.

    python -m aftersales_runtime.healthcheck intake 8001

The port is `<SERVICE>_HTTP_PORT` when set (as the service reads it), else the one given.
Slim images have no curl; this needs only the standard library.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    service, default_port = argv
    port = os.environ.get(f"{service.upper()}_HTTP_PORT", default_port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=3) as answer:
            return 0 if answer.status == 200 else 1
    except (urllib.error.URLError, OSError) as error:
        print(f"{service} not ready: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
