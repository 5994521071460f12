"""Email through a real SMTP server (aiosmtpd): STARTTLS and implicit TLS with certificates made
here by openssl, AUTH, refusals that send nothing, timeouts; and the log provider's outbox.

`keywarden admin email test --to ADDRESS` sends the message: the command operators use to check
their SMTP settings, which exits 0 once the server has taken the message.
"""

import email
import email.policy
import os
import re
import socket
import subprocess
import tempfile
import time

import pytest

from keywarden_server import BINARY, Server, free_port
from smtp_server import PASSWORD, RECIPIENT, SENDER, USERNAME, Mailbox, make_certificates, smtp_server


@pytest.fixture(scope="module")
def certificates():
    """The test CA's file and the server's TLS context, made once for the module."""
    return make_certificates()


def keywarden(*args, env):
    """Runs the command; returns (exit code, stdout and stderr, seconds it took)."""
    started = time.monotonic()
    finished = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=60, env=env)
    return finished.returncode, finished.stdout + finished.stderr, time.monotonic() - started


def smtp_settings(port, security, host="localhost", **extra):
    settings = {
        "KEYWARDEN_EMAIL_PROVIDER": "smtp",
        "KEYWARDEN_EMAIL_FROM": SENDER,
        "KEYWARDEN_SMTP_HOST": host,
        "KEYWARDEN_SMTP_PORT": str(port),
        "KEYWARDEN_SMTP_SECURITY": security,
        "KEYWARDEN_SMTP_TIMEOUT": "5",
    }
    settings.update(extra)
    return settings


def signed_in(certificates, password=PASSWORD):
    return {
        "KEYWARDEN_SMTP_USERNAME": USERNAME,
        "KEYWARDEN_SMTP_PASSWORD": password,
        "KEYWARDEN_SMTP_CA_FILE": certificates["ca"],
    }


def send_test_message(settings):
    environment = dict(os.environ)
    environment.update(settings)
    data_dir = tempfile.mkdtemp(prefix="keywarden-email-")
    return keywarden("admin", "email", "test", "--to", RECIPIENT, "--data-dir", data_dir, env=environment)


def starttls_server(mailbox, certificates):
    return smtp_server(
        mailbox,
        tls_context=certificates["context"],
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=mailbox.authenticator,
    )


def test_starttls_with_auth_delivers_one_message_with_a_text_and_an_html_part(certificates):
    mailbox = Mailbox()
    with starttls_server(mailbox, certificates) as port:
        code, output, _ = send_test_message({**smtp_settings(port, "starttls"), **signed_in(certificates)})
    assert code == 0, output
    assert f"sent 'Keywarden test message' to {RECIPIENT}" in output, output
    assert mailbox.logins == [("PLAIN", True)]
    [message] = mailbox.messages
    assert message["tls"] and message["authenticated"], message
    assert message["helo"] == "keywarden.test"
    assert message["from"] == "alerts@keywarden.test" and message["to"] == [RECIPIENT]
    parsed = email.message_from_bytes(message["content"], policy=email.policy.default)
    assert str(parsed["From"]) == SENDER
    assert str(parsed["To"]) == RECIPIENT
    assert str(parsed["Subject"]) == "Keywarden test message"
    assert str(parsed["MIME-Version"]) == "1.0"
    assert str(parsed["Message-ID"]).endswith("@keywarden.test>")
    assert abs(parsed["Date"].datetime.timestamp() - time.time()) < 300
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert "This is a test message from Keywarden" in parsed.get_body(("plain",)).get_content()
    assert "<code>keywarden admin email test</code>" in parsed.get_body(("html",)).get_content()


def test_implicit_tls_from_the_first_byte_delivers_the_message_and_checks_the_certificate(certificates):
    mailbox = Mailbox()
    # aiosmtpd only knows of TLS it started itself (STARTTLS), so with TLS from the first byte it
    # has to be told that AUTH without STARTTLS is fine; the connection is TLS all the same.
    options = {"auth_required": True, "auth_require_tls": False, "authenticator": mailbox.authenticator}
    with smtp_server(mailbox, ssl_context=certificates["context"], **options) as port:
        settings = {**smtp_settings(port, "tls", host="127.0.0.1"), **signed_in(certificates)}
        code, output, _ = send_test_message(settings)
        assert code == 0, output
        # Without smtp_ca_file the test CA is not trusted: nothing is sent.
        del settings["KEYWARDEN_SMTP_CA_FILE"]
        refused, refusal, _ = send_test_message(settings)
    [message] = mailbox.messages
    assert message["tls"] and message["authenticated"], message
    assert mailbox.logins == [("PLAIN", True)]
    assert refused != 0, refusal
    assert "TLS failed during greeting" in refusal, refusal


def test_a_wrong_password_fails_naming_the_step_but_never_the_password_and_signup_still_works(certificates):
    wrong = "wrong-smtp-password-never-printed"
    mailbox = Mailbox()
    with starttls_server(mailbox, certificates) as port:
        settings = {**smtp_settings(port, "starttls"), **signed_in(certificates, password=wrong)}
        code, output, _ = send_test_message(settings)
        assert code != 0, output
        assert "AUTH PLAIN was answered 535" in output, output
        assert wrong not in output
        # A server with the same settings signs people up all the same: sending email never fails
        # the request that sends it, and nothing it logs holds the password.
        with Server(env=settings) as server:
            status, _, body = server.call(
                "POST", "/v1/auth/signup", body={"email": "signup@example.com", "password": "correct horse battery"}
            )
            assert status == 201, body
        assert wrong not in server.log()
    assert mailbox.messages == []
    assert mailbox.logins and all(not accepted for _, accepted in mailbox.logins)


def test_a_server_without_starttls_gets_nothing_in_plain_text(certificates):
    mailbox = Mailbox()
    with smtp_server(mailbox, auth_require_tls=False, authenticator=mailbox.authenticator) as port:
        settings = {**smtp_settings(port, "starttls", host="127.0.0.1"), **signed_in(certificates)}
        code, output, _ = send_test_message(settings)
    assert code != 0, output
    assert "does not offer STARTTLS" in output, output
    assert PASSWORD not in output
    assert mailbox.logins == [] and mailbox.senders == [] and mailbox.messages == []


def test_an_unreachable_or_silent_server_fails_within_the_timeout_and_requests_still_complete():
    closed = free_port()
    code, output, seconds = send_test_message(smtp_settings(closed, "starttls", host="127.0.0.1"))
    assert code != 0, output
    assert f"cannot connect to 127.0.0.1:{closed}" in output, output
    assert seconds < 15
    with socket.socket() as silent:
        # The kernel completes the connection; nobody ever greets.
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        settings = smtp_settings(silent.getsockname()[1], "starttls", host="127.0.0.1", KEYWARDEN_SMTP_TIMEOUT="2")
        code, output, seconds = send_test_message(settings)
        assert code != 0, output
        assert "no answer to greeting within 2 seconds" in output, output
        assert 2 <= seconds < 15
        with Server(env=settings) as server:
            started = time.monotonic()
            status, _, body = server.call(
                "POST", "/v1/auth/signup", body={"email": "silent@example.com", "password": "correct horse battery"}
            )
            assert status == 201, body
            assert time.monotonic() - started < 15


def test_the_log_provider_keeps_the_test_message_for_outbox_email():
    data_dir = tempfile.mkdtemp(prefix="keywarden-email-outbox-")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KEYWARDEN_")}
    code, output, _ = keywarden("admin", "email", "test", "--to", RECIPIENT, "--data-dir", data_dir, env=environment)
    assert code == 0, output
    assert "through the log provider" in output, output
    code, output, _ = keywarden("outbox", "--email", "--data-dir", data_dir, env=environment)
    assert code == 0, output
    assert re.search(
        r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  person@example\.com  Keywarden test message$", output, re.MULTILINE
    ), output
    assert "\n    This is a test message from Keywarden" in output, output
    empty = tempfile.mkdtemp(prefix="keywarden-email-outbox-")
    code, output, _ = keywarden("outbox", "--email", "--data-dir", empty, env=environment)
    assert code == 0 and os.path.realpath(empty) + "/email-outbox.jsonl" in output, output


def test_the_test_command_refuses_an_address_that_is_not_one():
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KEYWARDEN_")}
    data_dir = tempfile.mkdtemp(prefix="keywarden-email-")
    code, output, _ = keywarden(
        "admin", "email", "test", "--to", "not-an-address", "--data-dir", data_dir, env=environment
    )
    assert code != 0
    assert "--to" in output, output
    assert not os.path.exists(os.path.join(data_dir, "email-outbox.jsonl"))


def test_the_log_provider_outside_a_data_directory_says_where_it_looked_and_creates_nothing():
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KEYWARDEN_")}
    empty = tempfile.mkdtemp(prefix="keywarden-email-")
    finished = subprocess.run(
        [BINARY, "admin", "email", "test", "--to", RECIPIENT],
        cwd=empty, capture_output=True, text=True, timeout=60, env=environment,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0, output
    assert "no Keywarden data directory at " + os.path.realpath(empty) + "/.keywarden" in output, output
    assert not os.path.exists(os.path.join(empty, ".keywarden"))
