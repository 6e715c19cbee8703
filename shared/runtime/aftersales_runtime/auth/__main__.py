"""The local issuer's command line (development and tests; production uses the IdP):

    python -m aftersales_runtime.auth token --role agent --dealer dealer-sz-001 [--ttl 3600]
                                            [--sub alice] [--oem oem-south] [--dir .cache/auth]
    python -m aftersales_runtime.auth public-key      # path of the key services verify with

The key pair is created under --dir on first use. Give `--dealer '*'` for group-wide staff.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from aftersales_runtime.auth.caller import ROLES
from aftersales_runtime.auth.issuer import (
    DEFAULT_DIRECTORY,
    ensure_key_pair,
    load_private_key,
    mint,
)
from aftersales_runtime.settings import AuthSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aftersales_runtime.auth")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="key pair folder")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a signed token")
    token.add_argument("--role", action="append", required=True, choices=ROLES)
    token.add_argument("--dealer", action="append", default=[], help="dealer id, or '*'")
    token.add_argument("--oem", action="append", default=[], help="every dealer of this OEM")
    token.add_argument("--ttl", type=int, default=3600, help="seconds (default 3600)")
    token.add_argument("--sub", help="user or system id (default: ROLE@DEALER)")
    commands.add_parser("public-key", help="print the public key file's path")
    args = parser.parse_args(argv)

    private, public = ensure_key_pair(args.dir)
    if args.command == "public-key":
        print(public)
        return
    if not args.dealer and not args.oem:
        parser.error("give --dealer (or --oem): a token acts for someone")
    settings = AuthSettings()
    print(
        mint(
            load_private_key(private),
            sub=args.sub or f"{args.role[0]}@{(args.dealer or args.oem)[0]}",
            roles=args.role,
            dealers=args.dealer,
            oems=args.oem,
            ttl=timedelta(seconds=args.ttl),
            issuer=settings.issuer,
            audience=settings.audience,
        )
    )


if __name__ == "__main__":
    main()
