"""``python -m salesagent.console.users add NAME`` prints the line for ``SALESAGENT_CONSOLE_USERS``.

The password is read from the terminal (or ``SALESAGENT_CONSOLE_PASSWORD`` for scripts), hashed
with scrypt, and only the hash is printed: the clinic's config never holds a password in clear.
"""

from __future__ import annotations

import getpass
import os
import sys

from salesagent.console.auth import hash_password


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "add" or not args[1] or ":" in args[1] or ";" in args[1]:
        print("usage: python -m salesagent.console.users add NAME", file=sys.stderr)
        return 2
    password = os.environ.get("SALESAGENT_CONSOLE_PASSWORD") or getpass.getpass("password: ")
    if len(password) < 8:
        print("password must be at least 8 characters", file=sys.stderr)
        return 2
    print(f"{args[1]}:{hash_password(password)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
