import socket

import pytest


def test_a_connection_off_this_machine_fails_the_test() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match=r"tests stay on 127\.0\.0\.1"):
        sock.connect(("192.0.2.1", 443))


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
