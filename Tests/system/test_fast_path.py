"""Gateway calls and key checks served on the event loop, seen from the wire: pipelined requests
answered in order, HTTP/1.0 and `Connection: close`, `Expect: 100-continue`, callers that leave
mid-answer, slow readers, and the metrics and access log of calls served there."""

import json
import re
import socket
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from keywarden_server import Server, free_port, raw_exchange

OPERATOR = "operator-token-for-the-fast-path-0123456789"
COMPLETION = json.dumps(
    {
        "id": "c1",
        "object": "chat.completion",
        "model": "m-1",
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
).encode()
BIG = b"x" * (8 << 20)


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/v1/slow"):
            time.sleep(1)
            self.answer(200, COMPLETION)
        elif self.path.startswith("/v1/big"):
            self.answer(200, BIG, "application/octet-stream")
        elif self.path.startswith("/v1/stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for index in range(50):
                    chunk = f"data: {index}\n\n".encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    time.sleep(0.02)
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
        else:
            self.answer(200, json.dumps({"path": self.path}).encode())

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if "slow" in self.path:
            time.sleep(1)
        self.answer(200, COMPLETION)


@pytest.fixture(scope="module")
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def server(upstream):
    metrics_port = free_port()
    env = {
        "KEYWARDEN_UPSTREAM_URL": upstream,
        "KEYWARDEN_OPERATOR_TOKEN": OPERATOR,
        "KEYWARDEN_METRICS_PORT": str(metrics_port),
        "KEYWARDEN_LOG_LEVEL": "info",
    }
    with Server(env=env) as running:
        running.metrics_port = metrics_port
        token, project = running.verified_account("fast@example.com")
        running.api_key = running.key(token, project)
        running.session = token
        # The key's first call reads its tier and limits into memory; the rest are served on the loop.
        status, _, _ = running.call("GET", "/v1/models", running.api_key)
        assert status == 200
        yield running


def warm(server):
    """One call first, so the key's tier and limits are in memory for the calls a test counts."""
    status, _, _ = server.call("GET", "/v1/models", server.api_key)
    assert status == 200


def served(server):
    text = urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=5).read().decode()
    found = re.search(r'^keywarden_fast_path_requests_total\{outcome="served"\} (\d+)', text, re.M)
    return int(found.group(1)) if found else 0


def chat_request(key, close=False, version="1.1", expect=False):
    body = b'{"model":"m-1","messages":[]}'
    lines = [
        f"POST /v1/chat/completions HTTP/{version}",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {key}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if close:
        lines.append("Connection: close")
    if expect:
        lines.append("Expect: 100-continue")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head if expect else head + body


def answers(received):
    """Splits answers of known length; returns [(status, headers, body)]."""
    found = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        if status == 100:
            found.append((status, headers, b""))
            received = rest
            continue
        length = int(headers.get("content-length", "0"))
        found.append((status, headers, rest[:length]))
        received = rest[length:]
    return found


def test_pipelined_requests_are_answered_in_their_order_whoever_serves_them(server):
    """A call served on the loop, then one for the router, then more behind it."""
    key = server.api_key
    requests = (
        chat_request(key)
        + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        + f"GET /v1/items/2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        + f"GET /v1/keys/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OPERATOR}\r\nKeywarden-Key: {key}\r\n\r\n".encode()
        + f"GET /v1/items/5 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n".encode()
    )
    warm(server)
    before = served(server)
    received, closed = raw_exchange(server.port, requests, timeout=10)
    got = answers(received)
    assert [status for status, _, _ in got] == [200] * 5, received[:2000]
    assert json.loads(got[0][2])["usage"]["total_tokens"] == 7
    assert got[1][2] == b'{"status":"ok"}'
    assert json.loads(got[2][2]) == {"path": "/v1/items/2"}
    assert json.loads(got[3][2])["valid"] is True
    assert json.loads(got[4][2]) == {"path": "/v1/items/5"}
    assert got[4][1]["connection"] == "close"
    assert closed
    # Behind a request the router answers, the rest go to the router too, which keeps the order.
    assert served(server) - before == 1


def test_http_1_0_and_connection_close_are_answered_and_closed(server):
    for request in (chat_request(server.api_key, version="1.0"), chat_request(server.api_key, close=True)):
        received, closed = raw_exchange(server.port, request)
        (status, headers, body), = answers(received)
        assert status == 200
        assert headers["connection"] == "close"
        assert json.loads(body)["id"] == "c1"
        assert closed


def test_expect_100_continue_is_answered_before_the_body_is_sent(server):
    body = b'{"model":"m-1","messages":[]}'
    received, _ = raw_exchange(
        server.port,
        chat_request(server.api_key, expect=True),
        timeout=3,
        after=lambda sock, got: sock.sendall(body),
    )
    got = answers(received)
    assert [status for status, _, _ in got] == [100, 200]


def test_a_slow_reader_gets_a_large_answer_whole(server):
    request = f"GET /v1/big HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.api_key}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(request.encode())
        received = b""
        time.sleep(1)  # the answer backs up behind a reader that is not reading
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == BIG


def test_a_caller_leaving_mid_stream_is_not_an_error_and_the_next_call_works(server):
    request = f"GET /v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.api_key}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request.encode())
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 200")
        assert b"transfer-encoding: chunked" in first.lower()
    time.sleep(0.3)
    status, _, body = server.call("GET", "/v1/items/9", server.api_key)
    assert status == 200 and body == {"path": "/v1/items/9"}
    assert server.log_lines("error") == []


def test_calls_served_on_the_loop_are_counted_logged_and_metered(server):
    warm(server)
    before = served(server)
    for _ in range(5):
        status, headers, body = server.call("POST", "/v1/chat/completions", server.api_key, {"model": "m-1"})
        assert status == 200 and body["id"] == "c1"
        assert headers["x-request-id"].startswith("req_")
    assert served(server) - before == 5
    text = urllib.request.urlopen(f"http://127.0.0.1:{server.metrics_port}/metrics", timeout=5).read().decode()
    assert re.search(r'^keywarden_http_requests_total\{group="gateway",status="200"\} \d+', text, re.M)
    assert re.search(r'^keywarden_gateway_calls_total\{status="200"\} \d+', text, re.M)
    assert len(re.findall(r"POST /v1/chat/completions 200", server.log())) >= 5
    assert server.api_key not in server.log()
    deadline = time.monotonic() + 15
    while server.requests_recorded(server.session) < 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert server.requests_recorded(server.session) >= 5


def test_pipelined_calls_behind_one_under_way_wait_for_it_and_are_served_on_the_loop_in_order(server):
    key = server.api_key
    requests = b"".join(
        f"GET /v1/items/{index} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        for index in range(6)
    ) + f"GET /v1/keys/verify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {OPERATOR}\r\nKeywarden-Key: {key}\r\nConnection: close\r\n\r\n".encode()
    warm(server)
    before = served(server)
    received, closed = raw_exchange(server.port, requests, timeout=10)
    got = answers(received)
    assert [json.loads(body).get("path") for _, _, body in got[:6]] == [f"/v1/items/{index}" for index in range(6)]
    assert json.loads(got[6][2])["valid"] is True
    assert closed
    assert served(server) - before == 7


def test_a_caller_that_closes_its_side_after_pipelined_calls_gets_every_answer(server):
    key = server.api_key
    requests = b"".join(
        f"GET /v1/items/{index} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        for index in range(3)
    )
    warm(server)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(requests)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    got = answers(received)
    assert [json.loads(body)["path"] for _, _, body in got] == ["/v1/items/0", "/v1/items/1", "/v1/items/2"]


def test_a_caller_that_leaves_before_the_answer_still_has_the_call_metered(server):
    warm(server)
    time.sleep(1.5)  # what came before is written
    before = server.requests_recorded(server.session)
    body = b'{"model":"m-1","messages":[]}'
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            f"POST /v1/chat/completions?slow=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.api_key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        time.sleep(0.1)
    deadline = time.monotonic() + 15
    while server.requests_recorded(server.session) == before and time.monotonic() < deadline:
        time.sleep(0.3)
    assert server.requests_recorded(server.session) == before + 1
