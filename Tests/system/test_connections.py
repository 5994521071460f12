"""HTTP/1 at the edges: versions, expectations, broken bodies, slow and idle clients, floods."""

import socket
import time

import pytest

from keywarden_server import Server, raw_exchange

TIMEOUTS = {"KEYWARDEN_HTTP_HEADER_TIMEOUT": "2", "KEYWARDEN_HTTP_IDLE_TIMEOUT": "3"}


@pytest.fixture(scope="module")
def server():
    with Server(env=TIMEOUTS) as running:
        yield running


def head_and_body(received):
    head, _, body = received.partition(b"\r\n\r\n")
    return head.decode("latin-1").lower(), body


def test_http_1_0_without_keep_alive_is_answered_in_1_0_with_connection_close_and_closed(server):
    received, closed = raw_exchange(server.port, b"GET /healthz HTTP/1.0\r\n\r\n")
    head, body = head_and_body(received)
    assert head.startswith("http/1.0 200")
    assert "connection: close" in head
    assert body == b'{"status":"ok"}'
    assert closed


def test_http_1_0_with_keep_alive_stays_open(server):
    received, closed = raw_exchange(
        server.port, b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", timeout=1
    )
    head, _ = head_and_body(received)
    assert head.startswith("http/1.0 200")
    assert "connection: keep-alive" in head
    assert not closed


@pytest.mark.parametrize("spelling", [b"close", b"Close", b"CLOSE", b"keep-alive, close"])
def test_connection_close_in_any_spelling_closes_after_the_answer(server, spelling):
    received, closed = raw_exchange(
        server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: " + spelling + b"\r\n\r\n"
    )
    assert received.startswith(b"HTTP/1.1 200")
    assert closed


def test_expect_100_continue_is_answered_before_the_body_is_sent(server):
    body = b'{"email":"expect@example.com","password":"correct horse battery"}'
    request = (
        b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    sent_body_at = []

    def send_body(sock, received):
        sent_body_at.append(received)
        sock.sendall(body)

    received, _ = raw_exchange(server.port, request, after=send_body)
    assert sent_body_at and sent_body_at[0].startswith(b"HTTP/1.1 100 Continue\r\n")
    final = received[received.index(b"\r\n\r\n") + 4 :]
    assert final.startswith(b"HTTP/1.1 201"), received


def test_head_answers_a_get_route_with_its_headers_and_no_body(server):
    received, closed = raw_exchange(server.port, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, body = head_and_body(received)
    assert head.startswith("http/1.1 200")
    assert "content-length: 15" in head
    assert body == b""
    assert closed


def test_a_malformed_chunked_body_is_a_400_in_the_envelope_and_no_error_is_logged(server):
    request = (
        b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    )
    received, closed = raw_exchange(server.port, request)
    head, body = head_and_body(received)
    assert head.startswith("http/1.1 400")
    assert b'"error"' in body and b'"code":"bad_request"' in body
    assert closed
    assert not server.log_lines("error"), server.log_lines("error")


def test_a_client_leaving_mid_body_is_not_an_error(server):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(
            b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{\"email\":"
        )
        time.sleep(0.2)
    time.sleep(0.5)
    assert server.call("GET", "/healthz")[0] == 200
    assert not server.log_lines("error"), server.log_lines("error")


def test_a_head_trickled_byte_by_byte_is_cut_off_at_the_header_timeout(server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(10)
        closed_after = None
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            try:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        closed_after = time.monotonic() - started
                        break
                except BlockingIOError:
                    pass
                finally:
                    sock.setblocking(True)
                    sock.settimeout(10)
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
    assert closed_after is not None and closed_after < 4, closed_after


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(server):
    received, closed = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", timeout=6)
    assert received.startswith(b"HTTP/1.1 200")
    assert closed


def test_a_flood_of_idle_connections_slows_new_ones_but_never_stops_the_server():
    env = dict(TIMEOUTS, KEYWARDEN_MAX_CONNECTIONS="32")
    with Server(env=env) as server:
        # A connection opened before the flood keeps being served.
        early = socket.create_connection(("127.0.0.1", server.port))
        flood = []
        for _ in range(400):
            try:
                flood.append(socket.create_connection(("127.0.0.1", server.port), timeout=1))
            except OSError:
                break
        early.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        early.settimeout(5)
        assert early.recv(1024).startswith(b"HTTP/1.1 200")
        # New clients are served once idle connections time out and free their places.
        started = time.monotonic()
        received, _ = raw_exchange(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=30)
        assert received.startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 30
        assert server.process.poll() is None
        for sock in flood:
            sock.close()
        early.close()


def test_a_pipelined_request_expecting_100_gets_it_only_after_the_answer_before_it(server):
    body = b'{"email":"pipelined@example.com","password":"correct horse battery"}'
    requests = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\nConnection: close\r\nExpect: 100-continue\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )

    def send_body(sock, received):
        time.sleep(0.3)
        sock.sendall(body)

    received, _ = raw_exchange(server.port, requests, after=send_body)
    first_end = received.index(b'{"status":"ok"}') + len(b'{"status":"ok"}')
    # The health answer comes whole first, then the 100, then the sign-up's answer.
    assert received.startswith(b"HTTP/1.1 200")
    assert received[first_end:].startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), received
    assert b"HTTP/1.1 201" in received[first_end:]


def test_a_body_declared_over_the_limit_gets_no_100_and_a_413_that_closes_the_connection(server):
    request = (
        b"POST /v1/auth/signup HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
    )
    received, closed = raw_exchange(server.port, request, timeout=5)
    assert received.startswith(b"HTTP/1.1 413"), received
    assert b"100 Continue" not in received
    assert b"connection: close" in received.lower()
    assert closed


def test_head_through_the_gateway_is_forwarded_and_answered_without_a_body():
    with Server(env=TIMEOUTS, args=["--upstream", "echo"]) as gateway:
        token, project = gateway.verified_account("head@example.com")
        key = gateway.key(token, project)
        request = (
            b"HEAD /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
            + key.encode()
            + b"\r\n\r\n"
        )
        received, closed = raw_exchange(gateway.port, request)
        head, body = head_and_body(received)
        assert head.startswith("http/1.1 ")
        assert "x-ratelimit-limit-requests" in head
        assert body == b""
        assert closed
