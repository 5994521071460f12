"""Starts and stops real Keywarden processes for the system suite (the browser suite imports it too).

KEYWARDEN_BINARY names the executable (run.sh sets it to a fresh debug build).
"""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BINARY = os.environ.get("KEYWARDEN_BINARY", ".build/debug/keywarden")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `keywarden serve` process on a port of its own, logging to a file."""

    def __init__(self, data_dir=None, port=None, env=None, args=()):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="keywarden-system-")
        self.port = port or free_port()
        self.env = dict(os.environ)
        # Tests sign up many accounts from 127.0.0.1: the per-address sign-up limit is roomy here
        # (a test of the limit sets its own).
        self.env.update(
            {
                "KEYWARDEN_BCRYPT_COST": "4",
                "KEYWARDEN_LOG_LEVEL": "debug",
                "KEYWARDEN_SIGNUPS_PER_ADDRESS_PER_HOUR": "1000",
            }
        )
        self.env.update(env or {})
        self.args = list(args)
        self.log_path = os.path.join(self.data_dir, "server.log")
        self.process = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait=True):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [BINARY, "serve", "--data-dir", self.data_dir, "--port", str(self.port), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        log.close()
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("server exited during start-up:\n" + self.log())
            try:
                with urllib.request.urlopen(self.base_url + "/readyz", timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("server did not become ready:\n" + self.log())

    def signal(self, number):
        self.process.send_signal(number)

    def wait(self, timeout):
        """Waits for the process to end; returns its exit code and the seconds it took."""
        started = time.monotonic()
        code = self.process.wait(timeout=timeout)
        return code, time.monotonic() - started

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self):
        try:
            with open(self.log_path, errors="replace") as file:
                return file.read()
        except FileNotFoundError:
            return ""

    def log_lines(self, level):
        return [line for line in self.log().splitlines() if f" {level} " in line]

    def call(self, method, path, token=None, body=None, headers=None, timeout=30):
        """One JSON request; returns (status, headers, decoded body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if token:
            request.add_header("Authorization", "Bearer " + token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.headers, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                decoded = json.loads(raw or b"null")
            except ValueError:
                decoded = raw
            return error.code, error.headers, decoded

    def outbox(self):
        """The messages of the development (log) SMS provider, oldest first: dicts with `to`,
        `body`, `verification_id` and `sent_at`. A line still being written is left out."""
        return self._jsonl("outbox.jsonl")

    def email_outbox(self):
        """The messages of the development (log) email provider, oldest first: dicts with `to`,
        `subject`, `text`, `html` and `sent_at`. A line still being written is left out."""
        return self._jsonl("email-outbox.jsonl")

    def _jsonl(self, name):
        """The objects of a JSON-lines file in the data directory; none when it is missing."""
        try:
            with open(os.path.join(self.data_dir, name)) as outbox:
                lines = outbox.read().splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:
                pass
        return entries

    def link_token(self, email, path, timeout=10):
        """The token of the newest link to `path` (`/confirm-email`, `/reset-password`) mailed to
        `email`, waiting up to `timeout` seconds for it."""
        pattern = re.compile(re.escape(path) + r"\?token=([A-Za-z0-9_-]+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in reversed(self.email_outbox()):
                found = pattern.search(entry["text"])
                if entry["to"] == email.lower() and found:
                    return found.group(1)
            time.sleep(0.05)
        raise AssertionError(f"no {path} link mailed to {email}: {self.email_outbox()}")

    def confirm_email(self, email):
        """Confirms `email` as its owner does: with the token of the link mailed at sign-up."""
        token = self.link_token(email, "/confirm-email")
        status, _, user = self.call("POST", "/v1/auth/email/confirm", body={"token": token})
        assert status == 200 and user["email_confirmed"], user
        return user

    @staticmethod
    def code_in(entry):
        """The 6-digit code a message's body carries."""
        found = re.search(r"\b(\d{6})\b", entry["body"])
        assert found, "no 6-digit code in " + repr(entry["body"])
        return found.group(1)

    def latest_code(self, verification_id):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for entry in reversed(self.outbox()):
                if entry["verification_id"] == verification_id:
                    return self.code_in(entry)
            time.sleep(0.05)
        raise AssertionError("no code in the outbox for " + verification_id)

    def code_sent_to(self, number, after=0, timeout=10):
        """The code of the newest message to `number` (E.164) among the messages past the first
        `after` (the outbox's length before the send), waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in reversed(self.outbox()[after:]):
                if entry["to"] == number:
                    return self.code_in(entry)
            time.sleep(0.05)
        raise AssertionError(f"no new message to {number} in the outbox: {self.outbox()[after:]}")

    def verified_account(self, email="system@example.com", number="+12015550123"):
        """Signs up, confirms the email address from the mailed link, verifies the organization's
        phone; returns (session token, default project id)."""
        status, _, signed_up = self.call(
            "POST", "/v1/auth/signup", body={"email": email, "password": "correct horse battery"}
        )
        assert status == 201, signed_up
        token = signed_up["session_token"]
        self.confirm_email(email)
        status, _, started = self.call(
            "POST", "/v1/organization/phone_verifications", token, {"phone_number": number}
        )
        assert status == 201, started
        status, _, checked = self.call(
            "POST",
            f"/v1/organization/phone_verifications/{started['id']}/check",
            token,
            {"code": self.latest_code(started["id"])},
        )
        assert status == 200 and checked["status"] == "approved", checked
        return token, signed_up["default_project"]["id"]

    def key(self, token, project):
        status, _, created = self.call(
            "POST", f"/v1/organization/projects/{project}/api_keys", token, {"name": "system"}
        )
        assert status == 201, created
        return created["value"]

    def requests_recorded(self, token):
        """The gateway calls the usage endpoint reports for the last two days."""
        start = int(time.time()) - 2 * 86400
        status, _, usage = self.call(
            "GET", f"/v1/organization/usage/completions?start_time={start}&bucket_width=1d&limit=7", token
        )
        assert status == 200, usage
        assert not usage["has_more"]
        return sum(r["num_model_requests"] for b in usage["data"] for r in b["results"])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def raw_exchange(port, data, timeout=5.0, after=None):
    """Sends bytes on a new connection and reads until the server closes it or `timeout` passes.

    `after(sock, received)` may send more once the first bytes arrived. Returns (bytes, closed).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return received, False
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk
            if after:
                after, step = None, after
                step(sock, received)
        return received, False
