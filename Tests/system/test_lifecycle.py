"""Start-up refusals and shutdown: the process never hangs and never loses what it counted."""

import http.client
import json
import signal
import subprocess
import threading
import time

from keywarden_server import BINARY, Server


def run_serve(server, extra_env=None, timeout=15):
    env = dict(server.env)
    env.update(extra_env or {})
    started = time.monotonic()
    finished = subprocess.run(
        [BINARY, "serve", "--data-dir", server.data_dir, "--port", str(server.port)],
        env=env,
        capture_output=True,
        timeout=timeout,
        text=True,
    )
    return finished, time.monotonic() - started


def test_a_taken_port_ends_start_up_at_once_with_one_line_naming_the_address():
    with Server() as first:
        second = Server(port=first.port, env={"KEYWARDEN_LOG_LEVEL": "info"})
        finished, seconds = run_serve(second)
        output = finished.stdout + finished.stderr
        assert finished.returncode != 0
        assert seconds < 5
        assert output.count(f"127.0.0.1:{first.port} is already in use") == 1, output
        # No background loop spun while the server failed: a handful of lines, not thousands.
        assert len(output.splitlines()) < 40, output
        assert "could not" not in output, output
        # The first server is untouched.
        assert first.call("GET", "/healthz")[0] == 200


def test_an_unusable_setting_ends_start_up_with_one_sentence_and_no_usage_line():
    server = Server(env={"KEYWARDEN_HTTP_IDLE_TIMEOUT": "0"})
    finished, seconds = run_serve(server)
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert seconds < 5
    assert "http_idle_timeout" in output
    assert "USAGE:" not in output and "Usage:" not in output, output


def test_an_unreachable_database_ends_start_up_with_one_sentence():
    server = Server(
        env={
            "KEYWARDEN_DATABASE_URL": "postgres://keywarden:secret@127.0.0.1:9/keywarden?sslmode=disable",
            "KEYWARDEN_SECRET": "s" * 40,
        }
    )
    finished, seconds = run_serve(server, timeout=30)
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert seconds < 15
    assert "database" in output.lower(), output
    assert "secret" not in output.split("not starting")[-1], output


class Load:
    """Threads making gateway calls on keep-alive connections until told to stop."""

    def __init__(self, port, key, threads=6):
        self.port = port
        self.key = key
        self.answered = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        body = json.dumps({"model": "echo-1", "messages": [{"role": "user", "content": "hi"}]})
        headers = {"Authorization": "Bearer " + self.key, "Content-Type": "application/json"}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self.stopping.is_set():
            try:
                connection.request("POST", "/v1/chat/completions", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                return
            if response.status == 200:
                with self.lock:
                    self.answered += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)


def test_sigterm_under_load_ends_within_seconds_and_writes_the_usage_counted_in_memory():
    # Usage is written only every minute here, so what the restarted server reports was written
    # by the shutdown itself.
    env = {
        "KEYWARDEN_USAGE_FLUSH_INTERVAL": "60",
        "KEYWARDEN_RATE_LIMIT_TIERS": "roomy: rpm=1000000 tpm=1000000000",
        "KEYWARDEN_LOG_LEVEL": "info",
    }
    server = Server(env=env, args=["--upstream", "echo"]).start()
    try:
        token, project = server.verified_account()
        key = server.key(token, project)
        with Load(server.port, key) as load:
            time.sleep(2)
            server.signal(signal.SIGTERM)
            code, seconds = server.wait(timeout=20)
        assert code == 0, server.log()
        assert seconds < 5, seconds
        assert load.answered > 0
        assert not server.log_lines("error"), server.log()
    finally:
        server.stop()
    restarted = Server(data_dir=server.data_dir, port=server.port, env=env).start()
    try:
        status, _, login = restarted.call(
            "POST", "/v1/auth/login", body={"email": "system@example.com", "password": "correct horse battery"}
        )
        assert status == 200
        recorded = restarted.requests_recorded(login["session_token"])
        # Every answered call was counted; at most one call per thread was answered by the server
        # without its client reading the answer before the connection closed.
        assert load.answered <= recorded <= load.answered + len(load.threads), (load.answered, recorded)
    finally:
        restarted.stop()


def test_sigint_ends_an_idle_server_within_seconds():
    server = Server().start()
    server.signal(signal.SIGINT)
    code, seconds = server.wait(timeout=20)
    assert code == 0
    assert seconds < 5
