"""The HTTP/1.1 that `serve` reads: a request's head from its bytes, however they arrive."""

from __future__ import annotations

import pytest

from clinesync.consoles.http1 import MAX_HEAD, MAX_HEADERS, BadRequest, Framing, HeadReader, parse_head

HEAD = (
    b"PUT /api/v1/organizations/org-1/remote-config HTTP/1.1\r\n"
    b"Host: x\r\nCONTENT-length: 51\r\nConnection: close\r\n\r\n"
)


def read(chunks: list[bytes]) -> tuple[int, list[bytes]]:
    """Where the head ends, fed `chunks` one after another into one growing buffer, as a connection is."""
    reader, buffer = HeadReader(), bytearray()
    for chunk in chunks:
        buffer += chunk
        end = reader.feed(buffer)
        if end is not None:
            return end, reader.lines
    raise AssertionError("the head never ended")


def test_a_head_dripped_byte_by_byte_reads_as_the_head_sent_whole() -> None:
    whole = read([HEAD + b"{body"])
    assert read([HEAD[i : i + 1] for i in range(len(HEAD))] + [b"{body"]) == whole
    end, lines = whole
    assert end == len(HEAD)
    head = parse_head(lines)
    assert head is not None
    assert (head.method, head.version, head.headers.get("Content-Length")) == ("PUT", (1, 1), "51")
    assert head.keep_alive is False and head.body_length(1000) == 51


def test_bare_line_feeds_end_lines_too() -> None:
    end, lines = read([b"GET / HTTP/1.0\nHost: x\n\nGET"])
    head = parse_head(lines)
    assert end == len(b"GET / HTTP/1.0\nHost: x\n\n") and head is not None
    assert head.keep_alive is False  # HTTP/1.0's default


def test_a_blank_request_line_is_closed_without_an_answer() -> None:
    end, lines = read([b"\r\nGET / HTTP/1.1\r\n\r\n"])
    assert end == 2 and parse_head(lines) is None


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        ([b"G" * MAX_HEAD], 414),  # no line ending yet, and already too long
        ([b"GET /" + b"a" * MAX_HEAD + b" HTTP/1.1\r\n"], 414),
        ([b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD], 431),
        ([b"GET / HTTP/1.1\r\n", *[b"X-%d: %s\r\n" % (n, b"a" * 1000) for n in range(66)]], 431),
        ([b"GET / HTTP/1.1\r\n" + b"X: 1\r\n" * (MAX_HEADERS + 1)], 431),  # refused before the head ends
    ],
)
def test_past_a_limit_the_head_is_refused_at_once(chunks: list[bytes], status: int) -> None:
    with pytest.raises(BadRequest) as refused:
        read(chunks)
    assert refused.value.status == status


def test_a_head_of_exactly_the_limit_is_read() -> None:
    request_line = b"GET / HTTP/1.1\r\n"
    line = b"X: " + b"a" * (MAX_HEAD - len(request_line) - 7) + b"\r\n"
    head_bytes = request_line + line + b"\r\n"
    assert len(head_bytes) == MAX_HEAD
    end, lines = read([head_bytes + b"more"])
    head = parse_head(lines)
    assert end == MAX_HEAD and head is not None and len(head.headers["x"]) == len(line) - 5


@pytest.mark.parametrize(
    ("headers", "length"),
    [
        ("", 0),
        ("Content-Length: 0\r\n", 0),
        ("Content-Length: 10\r\n", 10),
        ("Content-Length: 11\r\n", None),  # over the limit: not read
        ("Content-Length: +5\r\n", None),
        ("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", None),
        ("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n", None),  # even empty
    ],
)
def test_the_body_read_is_the_one_stated_in_digits_within_the_limit(headers: str, length: int | None) -> None:
    head = parse_head([b"PUT / HTTP/1.1\r\n", *[line.encode() + b"\n" for line in headers.splitlines()]])
    assert head is not None and head.body_length(10) == length


def test_a_bad_header_names_its_request_for_the_log() -> None:
    with pytest.raises(BadRequest) as refused:
        parse_head([b"PUT /api/v1/x HTTP/1.1\r\n", b"X : y\r\n"])
    assert (refused.value.status, refused.value.method, refused.value.target) == (400, "PUT", "/api/v1/x")
    with pytest.raises(BadRequest) as too_many:
        read([b"PUT /api/v1/x HTTP/1.1\r\n" + b"X: 1\r\n" * (MAX_HEADERS + 1)])
    assert (too_many.value.status, too_many.value.method, too_many.value.target) == (431, "PUT", "/api/v1/x")


def test_expect_continue_is_http_1_1s() -> None:
    for version, expected in (("1.1", True), ("1.0", False)):
        head = parse_head([f"PUT / HTTP/{version}\r\n".encode(), b"Expect: 100-Continue\r\n"])
        assert head is not None and head.expects_continue is expected


def test_an_answer_is_framed_with_its_length_and_close() -> None:
    framing = Framing("clinesync/test")
    kept = framing.answer(200, b'{"a": 1}', {"ETag": '"3"'}, close=False)
    head, _, payload = kept.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\nServer: clinesync/test\r\nDate: ")
    assert b'\r\nContent-Length: 8\r\nETag: "3"' in head and b"Connection" not in head
    assert payload == b'{"a": 1}'
    closed = framing.answer(413, b"{}", {}, close=True)
    assert closed.startswith(b"HTTP/1.1 413 ") and b"\r\nConnection: close\r\n\r\n" in closed
