"""Free loopback ports, for the tests and the benchmarks (which must not import conftest: it sets
the tests' JVM options)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_block(size: int) -> int:
    """The first of `size` consecutive loopback ports that nothing listens on right now."""
    for _ in range(200):
        base = free_port()
        sockets = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {size} consecutive free ports found")
