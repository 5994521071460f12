"""The command line run in the wrong place, or with bad values, says so and changes nothing."""

import os
import socket
import subprocess
import tempfile

from keywarden_server import BINARY


def run(*args, cwd):
    finished = subprocess.run(
        [BINARY, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    return finished.returncode, finished.stdout + finished.stderr


def test_read_and_admin_commands_outside_the_data_directory_say_where_they_looked_and_create_nothing():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    for args in (
        ["keys", "list", "--project", "proj_x"],
        ["keys", "revoke", "key_x"],
        ["admin", "org", "show", "org_x"],
        ["admin", "org", "set-tier", "org_x", "default"],
    ):
        code, output = run(*args, cwd=empty)
        assert code != 0, (args, output)
        assert "no Keywarden database at " + os.path.realpath(empty) + "/.keywarden/keywarden.sqlite" in output, (
            args,
            output,
        )
        assert "USAGE" not in output and "Usage:" not in output, output
        assert not os.path.exists(os.path.join(empty, ".keywarden")), args


def test_outbox_outside_the_data_directory_names_the_file_it_looked_for():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    code, output = run("outbox", cwd=empty)
    assert code == 0
    assert os.path.realpath(empty) + "/.keywarden/outbox.jsonl" in output
    assert not os.path.exists(os.path.join(empty, ".keywarden"))


def test_outbox_count_must_be_positive():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    for count in ("0", "-1", "1001"):
        code, output = run("outbox", "--count", count, cwd=empty)
        assert code != 0, (count, output)
        assert "--count" in output


def test_a_bad_setting_is_one_line_naming_it():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    code, output = run("keys", "list", "--project", "proj_x", "--data-dir", empty, "--log-level", "loud", cwd=empty)
    assert code != 0
    assert "log_level" in output
    assert len(output.strip().splitlines()) == 1, output


def test_serve_help_lists_every_setting_with_its_environment_variable():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    code, output = run("serve", "--help", cwd=empty)
    assert code == 0
    output = " ".join(output.split())  # the help text is wrapped to the terminal
    for variable in ("KEYWARDEN_DATABASE_URL", "KEYWARDEN_OPERATOR_TOKEN", "KEYWARDEN_SMS_SENDS_PER_ADDRESS_PER_HOUR"):
        assert variable in output, variable
    assert "bcrypt_cost, KEYWARDEN_BCRYPT_COST: bcrypt cost for password hashes, 4-31 (default 12)" in output


def test_the_configuration_access_log_names_each_source_and_redacts_secrets():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    log = os.path.join(empty, "config-access.log")
    config = os.path.join(empty, "settings.json")
    with open(config, "w") as file:
        file.write('{"operator_token": "operator-token-from-the-file-0123456789", "bcrypt_cost": 4}')
    environment = dict(os.environ)
    environment.update(
        {
            "CONFIG_ACCESS_LOG_FILE": log,
            "KEYWARDEN_SECRET": "server-secret-from-the-environment-0123456789",
            "KEYWARDEN_DATA_DIR": empty,
        }
    )
    # A taken port ends start-up once every setting has been read.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [BINARY, "serve", "--config", config, "--port", str(port)],
            cwd=empty, capture_output=True, text=True, timeout=60, env=environment,
        )
    assert finished.returncode == 1, finished.stdout + finished.stderr
    with open(log) as file:
        text = file.read()
    assert "operator-token-from-the-file" not in text and "server-secret-from-the-environment" not in text
    assert "secret -> \"<REDACTED>\"" in text
    assert "operator_token -> \"<REDACTED>\"" in text
    assert f'port -> "{port}" - provided by InMemoryProvider[command line]' in text
    assert 'bcrypt_cost -> "4" - provided by FileProvider' in text


def test_an_operator_grant_adds_credit_the_owner_sees_and_the_audit_log_names_the_operator():
    from keywarden_server import Server

    with Server() as server:
        token, _ = server.verified_account("granted@example.com")
        status, _, organization = server.call("GET", "/v1/organization", token)
        assert status == 200, organization
        cwd = server.data_dir
        code, output = run("admin", "org", "grant-credits", organization["id"], "12.50", "--reason", "welcome",
                           "--data-dir", server.data_dir, cwd=cwd)
        assert code == 0, output
        assert f"granted $12.50 to {organization['id']}" in output and "balance $12.50" in output, output
        for amount in ("-5", "1.234", "abc", "0"):
            code, output = run("admin", "org", "grant-credits", organization["id"], amount,
                               "--data-dir", server.data_dir, cwd=cwd)
            assert code != 0, (amount, output)
        status, _, billing = server.call("GET", "/v1/organization/billing", token)
        assert status == 200, billing
        assert billing["balance"]["micros"] == 12_500_000, billing
        status, _, history = server.call("GET", "/v1/organization/billing/transactions", token)
        assert [(t["type"], t["amount"]["micros"]) for t in history["data"]] == [("grant", 12_500_000)], history
        status, _, audit = server.call(
            "GET", "/v1/organization/audit_logs?event_types[]=billing.credits_granted", token
        )
        assert status == 200, audit
        assert [e["type"] for e in audit["data"]] == ["billing.credits_granted"], audit


def test_operator_grant_and_revoke_change_who_may_open_the_console():
    from keywarden_server import Server

    with Server() as server:
        token, _ = server.verified_account("operator@example.com")
        cwd = server.data_dir
        status, _, refused = server.call("GET", "/v1/admin/organizations", token)
        assert status == 403 and refused["error"]["code"] == "operator_required", refused

        code, output = run("admin", "operator", "grant", "Operator@Example.com", "--data-dir", cwd, cwd=cwd)
        assert code == 0 and "operator@example.com is an operator" in output.lower(), output
        code, output = run("admin", "operator", "grant", "operator@example.com", "--data-dir", cwd, cwd=cwd)
        assert code == 0 and "already" in output, output
        code, output = run("admin", "operator", "list", "--data-dir", cwd, cwd=cwd)
        assert code == 0 and "operator@example.com" in output, output
        # An operator still needs two-factor authentication before the console opens.
        status, _, refused = server.call("GET", "/v1/admin/organizations", token)
        assert status == 403 and refused["error"]["code"] == "mfa_required", refused

        code, output = run("admin", "operator", "grant", "nobody@example.com", "--data-dir", cwd, cwd=cwd)
        assert code != 0 and "nobody@example.com" in output, output

        code, output = run("admin", "operator", "revoke", "operator@example.com", "--data-dir", cwd, cwd=cwd)
        assert code == 0 and "no longer an operator" in output, output
        status, _, refused = server.call("GET", "/v1/admin/organizations", token)
        assert status == 403 and refused["error"]["code"] == "operator_required", refused


def test_keys_update_disable_and_enable_reach_a_running_server():
    import time

    from keywarden_server import Server

    with Server(args=["--upstream", "echo"]) as server:
        token, project = server.verified_account("keys@example.com")
        status, _, created = server.call(
            "POST", f"/v1/organization/projects/{project}/api_keys", token, {"name": "cli"}
        )
        assert status == 201, created
        key, key_id = created["value"], created["id"]
        cwd = server.data_dir

        def keys(*args):
            return run("keys", *args, "--data-dir", cwd, cwd=cwd)

        def gateway_answers(expected, with_key=None):
            # The server polls for keys changed elsewhere every two seconds.
            deadline = time.monotonic() + 15
            while True:
                status, _, answer = server.call("GET", "/v1/models", token=with_key or key)
                if status == expected:
                    return answer
                assert time.monotonic() < deadline, (expected, status, answer)
                time.sleep(0.2)

        code, output = keys("disable", key_id)
        assert code == 0 and output.startswith(f"disabled {key_id} ") and " disabled" in output, output
        refused = gateway_answers(401)
        assert "disabled" in refused["error"]["message"], refused
        code, output = keys("list", "--project", project)
        assert code == 0 and f"{key_id}  " in output and "  disabled" in output, output

        code, output = keys("enable", key_id)
        assert code == 0 and output.startswith(f"enabled {key_id} ") and " active" in output, output
        gateway_answers(200)

        code, output = keys("update", key_id, "--name", "office", "--allowed-ips", "10.0.0.0/8, 2001:DB8::/32")
        assert code == 0 and "allowed_ips=10.0.0.0/8,2001:db8::/32" in output, output
        refused = gateway_answers(403)
        assert refused["error"]["code"] == "ip_not_allowed" and "127.0.0.1" in refused["error"]["message"], refused
        code, output = keys("update", key_id, "--allowed-ips", "")
        assert code == 0 and "allowed_ips" not in output, output
        gateway_answers(200)

        for args in (
            ("update", key_id, "--allowed-ips", "300.1.1.1"),
            ("update", key_id, "--permissions", "restricted"),
            ("create", "--project", project, "--expires-in-seconds", "59"),
            ("create", "--project", project, "--allowed-ips", "1.2.3.4/33"),
        ):
            code, output = keys(*args)
            assert code != 0, (args, output)
        code, output = keys("update", key_id, "--allowed-ips", "300.1.1.1")
        assert "300.1.1.1" in output, output

        code, output = keys(
            "create", "--project", project, "--expires-in-seconds", "3600", "--allowed-ips", "127.0.0.1"
        )
        assert code == 0, output
        local_id, local_key = output.split()[:2]
        gateway_answers(200, with_key=local_key)
        status, _, listed = server.call("GET", f"/v1/organization/projects/{project}/api_keys/{local_id}", token)
        assert status == 200 and listed["allowed_ips"] == ["127.0.0.1"], listed
        assert listed["expires_at"] - listed["created_at"] == 3600, listed

        code, output = keys("revoke", key_id)
        assert code == 0, output
        code, output = keys("enable", key_id)
        assert code != 0 and "revoked" in output, output

        status, _, audit = server.call(
            "GET",
            "/v1/organization/audit_logs?event_types[]=api_key.disabled&event_types[]=api_key.enabled"
            "&event_types[]=api_key.updated",
            token,
        )
        assert status == 200, audit
        assert sorted(e["type"] for e in audit["data"]) == [
            "api_key.disabled", "api_key.enabled", "api_key.updated", "api_key.updated"
        ], audit
        assert all(e["actor"]["type"] == "operator" for e in audit["data"]), audit
