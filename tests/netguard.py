"""The guard every test runs under (``tests/conftest.py``): no connection and no name lookup
leaves the loopback. A refused attempt is recorded as well as refused, so a test fails even
when the code under test swallowed the error and retried (pytest-socket only raises).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest  # for the type of monkeypatch


class NetworkGuard:
    """Refuses (and records) any connection or name lookup that is not the loopback."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    @staticmethod
    def _loopback(host: Any) -> bool:
        if host in ("localhost",):
            return True
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return False

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_connect = socket.socket.connect
        real_getaddrinfo = socket.getaddrinfo
        guard = self

        def connect(sock: socket.socket, address: Any) -> None:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not guard._loopback(address[0]):
                guard.violations.append(f"connect {address[0]}")
                raise ConnectionRefusedError(f"test guard: {address[0]} is not 127.0.0.1")
            real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            connect(sock, address)
            return 0

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None and not guard._loopback(host):
                guard.violations.append(f"lookup {host}")
                raise socket.gaierror(f"test guard: {host} is not 127.0.0.1")
            return real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
