"""Running in production: the Prometheus listener, JSON logs and the access log file."""

import json
import os
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from keywarden_server import Server, free_port

CHAT = {"model": "echo-1", "messages": [{"role": "user", "content": "hello metrics"}]}


def scrape(port):
    """Every sample of one scrape, parsed by Prometheus's own client: {(name, labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples = {}
    types = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, types


def total(samples, name, **labels):
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and all(dict(sample_labels).get(k) == v for k, v in labels.items())
    )


def test_a_scrape_shows_the_series_changing_as_a_session_runs():
    metrics_port = free_port()
    env = {
        "KEYWARDEN_METRICS_PORT": str(metrics_port),
        "KEYWARDEN_UPSTREAM_URL": "echo",
        "KEYWARDEN_RATE_LIMIT_TIERS": "test: rpm=100 tpm=100000 key_rpm=2",
        "KEYWARDEN_RATE_LIMIT_DEFAULT_TIER": "test",
    }
    with Server(env=env) as server:
        before, types = scrape(metrics_port)
        assert types["keywarden_http_requests"] == "counter"
        assert total(before, "keywarden_verifications_approved_total") == 0

        token, project = server.verified_account("metrics@example.com")
        key = server.key(token, project)
        statuses = [server.call("POST", "/v1/chat/completions", key, CHAT)[0] for _ in range(3)]
        assert statuses == [200, 200, 429]
        status, _, other = server.call(
            "POST", "/v1/auth/signup", body={"email": "landline@example.com", "password": "correct horse battery"}
        )
        assert status == 201, other
        server.confirm_email("landline@example.com")
        status, _, refused = server.call(
            "POST",
            "/v1/organization/phone_verifications",
            other["session_token"],
            {"phone_number": "+44 20 7946 0000"},
        )
        assert status == 400, refused

        after, types = scrape(metrics_port)
        assert types["keywarden_http_request_duration_seconds"] == "histogram"
        assert total(after, "keywarden_http_requests_total", group="gateway", status="200") == 2
        assert total(after, "keywarden_http_requests_total", group="gateway", status="429") == 1
        assert total(after, "keywarden_http_request_duration_seconds_count", group="gateway") == 3
        assert total(after, "keywarden_gateway_refusals_total", reason="rate_limit_requests", scope="key") == 1
        assert total(after, "keywarden_messages_sent_total", channel="sms", provider="log", country="US") == 1
        assert total(after, "keywarden_verifications_started_total") == 1
        assert total(after, "keywarden_verifications_approved_total") == 1
        assert total(after, "keywarden_verifications_refused_total", reason="phone_line_type_not_allowed") == 1
        assert total(after, "keywarden_key_index_keys") == 1
        assert total(after, "keywarden_database_connections", state="max") == 1
        assert ("keywarden_key_index_refresh_lag_seconds", ()) in after
        assert total(after, "keywarden_key_index_refresh_lag_seconds") < 10
        assert ("keywarden_usage_flush_lag_seconds", ()) in after

        # No series names a key, an organization or a path.
        for _, labels in after:
            for _, value in labels:
                assert not value.startswith(("key_", "org_", "proj_", "user_", "sk-")), value
                assert "/" not in value, value

        # The public port does not serve the metrics.
        try:
            with urllib.request.urlopen(server.base_url + "/metrics", timeout=5) as response:
                assert b"keywarden_http_requests_total" not in response.read()
        except urllib.error.HTTPError as error:
            assert error.code == 404


def test_the_metrics_port_must_differ_from_the_public_port():
    server = Server()
    server.env["KEYWARDEN_METRICS_PORT"] = str(server.port)
    import subprocess

    from keywarden_server import BINARY

    finished = subprocess.run(
        [BINARY, "serve", "--data-dir", server.data_dir, "--port", str(server.port)],
        env=server.env,
        capture_output=True,
        timeout=15,
        text=True,
    )
    assert finished.returncode == 2
    assert "metrics_port" in finished.stderr


def test_a_busy_metrics_port_ends_start_up_naming_it():
    import socket
    import subprocess

    from keywarden_server import BINARY

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        metrics_port = taken.getsockname()[1]
        server = Server(env={"KEYWARDEN_METRICS_PORT": str(metrics_port), "KEYWARDEN_LOG_LEVEL": "info"})
        finished = subprocess.run(
            [BINARY, "serve", "--data-dir", server.data_dir, "--port", str(server.port)],
            env=server.env,
            capture_output=True,
            timeout=15,
            text=True,
        )
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert f"metrics_port: 127.0.0.1:{metrics_port} is already in use" in output, output
    assert f"127.0.0.1:{server.port} is already in use" not in output, output


def test_json_logs_are_one_object_a_line_with_the_request_id_and_no_secrets():
    with Server(env={"KEYWARDEN_LOG_FORMAT": "json", "KEYWARDEN_UPSTREAM_URL": "echo"}) as server:
        token, project = server.verified_account("json-logs@example.com")
        key = server.key(token, project)
        status, headers, _ = server.call("POST", "/v1/chat/completions", key, CHAT)
        assert status == 200
        request_id = headers["x-request-id"]
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert len(lines) > 10
    objects = [json.loads(line) for line in lines]
    for entry in objects:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
        assert entry["time"].endswith("Z")
    requests = [entry for entry in objects if entry.get("request_id") == request_id]
    assert any(entry.get("path") == "/v1/chat/completions" and entry.get("status") == 200 for entry in requests)
    text = server.log()
    assert token not in text
    assert key not in text
    assert "correct horse battery" not in text


def test_the_access_log_can_go_to_a_file_of_its_own():
    directory = Server().data_dir
    path = os.path.join(directory, "access.log")
    with Server(env={"KEYWARDEN_ACCESS_LOG": path, "KEYWARDEN_LOG_LEVEL": "info"}) as server:
        for _ in range(5):
            assert server.call("GET", "/healthz?probe=1")[0] == 200
    with open(path) as file:
        lines = file.read().splitlines()
    assert sum(" GET /healthz 200 " in line for line in lines) == 5, lines
    assert all("probe=1" not in line for line in lines)
    assert "GET /healthz" not in server.log()
