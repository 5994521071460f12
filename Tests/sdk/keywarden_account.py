"""A verified organization with keys on a running Keywarden whose SMS go to the development outbox.

Used by the SDK suite and the gateway benchmark. KEYWARDEN_SDK_BASE_URL names the server and
KEYWARDEN_SDK_DATA_DIR its data directory (where outbox.jsonl and email-outbox.jsonl are); a suite
that starts a server of its own passes both to `Account`.
"""

import json
import os
import re
import time
import urllib.error
import urllib.request

BASE_URL = os.environ.get("KEYWARDEN_SDK_BASE_URL", "http://127.0.0.1:18080")
DATA_DIR = os.environ.get("KEYWARDEN_SDK_DATA_DIR", "./.keywarden")


def call(method, path, token=None, body=None, base_url=BASE_URL):
    """One JSON request; returns (status, headers, decoded body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def confirmation_token(email, data_dir=DATA_DIR):
    """The token of the confirmation link the development (log) email provider wrote to the
    email outbox for `email`."""
    pattern = re.compile(r"/confirm-email\?token=([A-Za-z0-9_-]+)")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(data_dir, "email-outbox.jsonl")) as outbox:
                for line in reversed(outbox.read().splitlines()):
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        continue
                    found = pattern.search(entry["text"])
                    if entry["to"] == email and found:
                        return found.group(1)
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError("no confirmation link in the email outbox for " + email)


def latest_code(verification_id, data_dir=DATA_DIR):
    """The code the development SMS provider wrote to the outbox for a verification."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(data_dir, "outbox.jsonl")) as outbox:
                for line in reversed(outbox.read().splitlines()):
                    entry = json.loads(line)
                    if entry["verification_id"] == verification_id:
                        return "".join(c for c in entry["body"] if c.isdigit())[:6]
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError("no code in the outbox for " + verification_id)


class Account:
    def __init__(self, email="sdk@example.com", base_url=BASE_URL, data_dir=DATA_DIR):
        self.base_url = base_url
        status, _, signed_up = self.call(
            "POST",
            "/v1/auth/signup",
            body={"email": email, "password": "correct horse battery", "name": "SDK"},
        )
        assert status == 201, signed_up
        self.token = signed_up["session_token"]
        self.organization = signed_up["organization"]["id"]
        self.project = signed_up["default_project"]["id"]
        status, _, confirmed = self.call(
            "POST", "/v1/auth/email/confirm", body={"token": confirmation_token(email, data_dir)}
        )
        assert status == 200 and confirmed["email_confirmed"], confirmed
        status, _, started = self.call(
            "POST",
            "/v1/organization/phone_verifications",
            self.token,
            {"phone_number": "+12015550123", "channel": "sms"},
        )
        assert status == 201, started
        status, _, checked = self.call(
            "POST",
            f"/v1/organization/phone_verifications/{started['id']}/check",
            self.token,
            {"code": latest_code(started["id"], data_dir)},
        )
        assert checked["status"] == "approved", checked

    def call(self, method, path, token=None, body=None):
        """One JSON request to this account's server; returns (status, headers, decoded body)."""
        return call(method, path, token, body, base_url=self.base_url)

    def key(self, project=None, name="sdk"):
        status, _, created = self.call(
            "POST",
            f"/v1/organization/projects/{project or self.project}/api_keys",
            self.token,
            {"name": name},
        )
        assert status == 201, created
        return created["value"], created["id"]

    def project_named(self, name):
        status, _, created = self.call("POST", "/v1/organization/projects", self.token, {"name": name})
        assert status == 201, created
        return created["id"]
