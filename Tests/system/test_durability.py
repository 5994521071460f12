"""The kill -9 drill: writes in a loop, the process killed without warning, every acknowledged
write still there after a restart; usage loses at most its flush interval. SQLite always,
PostgreSQL when TEST_POSTGRES_URL is set."""

import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid

import pytest

from keywarden_server import Server

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_POSTGRES_URL") else [])


def database_env(backend):
    if backend == "sqlite":
        return {}
    url = os.environ["TEST_POSTGRES_URL"]
    schema = "drill_" + uuid.uuid4().hex[:10]
    subprocess.run(["psql", url, "-q", "-c", f"CREATE SCHEMA {schema}"], check=True, capture_output=True)
    separator = "&" if "?" in url else "?"
    return {
        "KEYWARDEN_DATABASE_URL": f"{url}{separator}search_path={schema}",
        "KEYWARDEN_SECRET": "drill-secret-" + "x" * 32,
        "KEYWARDEN_MIGRATE": "true",
    }


class Writers:
    """Threads creating projects and making gateway calls; each keeps what was acknowledged."""

    def __init__(self, port, token, key):
        self.port = port
        self.token = token
        self.key = key
        self.projects = []
        self.calls = []  # monotonic times of answered gateway calls
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.create_projects, args=(n,), daemon=True) for n in range(3)]
        self.threads += [threading.Thread(target=self.call_gateway, daemon=True) for _ in range(3)]

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def create_projects(self, worker):
        connection = self.connection()
        for index in range(100000):
            body = json.dumps({"name": f"drill {worker}-{index}"})
            try:
                connection.request(
                    "POST",
                    "/v1/organization/projects",
                    body=body,
                    headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"},
                )
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException):
                return
            if response.status == 201:
                with self.lock:
                    self.projects.append(json.loads(answer)["id"])

    def call_gateway(self):
        connection = self.connection()
        body = json.dumps({"model": "echo-1", "messages": [{"role": "user", "content": "drill"}]})
        while True:
            try:
                connection.request(
                    "POST",
                    "/v1/chat/completions",
                    body=body,
                    headers={"Authorization": "Bearer " + self.key, "Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                return
            if response.status == 200:
                with self.lock:
                    self.calls.append(time.monotonic())

    def start(self):
        for thread in self.threads:
            thread.start()

    def join(self):
        for thread in self.threads:
            thread.join(timeout=15)


def all_project_ids(server, token):
    ids, after = set(), None
    while True:
        query = "/v1/organization/projects?limit=100&include_archived=true" + (f"&after={after}" if after else "")
        status, _, page = server.call("GET", query, token)
        assert status == 200, page
        ids.update(project["id"] for project in page["data"])
        if not page["has_more"]:
            return ids
        after = page["last_id"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_loses_no_acknowledged_write_and_at_most_a_flush_interval_of_usage(backend):
    env = dict(database_env(backend))
    env.update({"KEYWARDEN_RATE_LIMIT_TIERS": "drill: rpm=10000000 tpm=10000000000", "KEYWARDEN_LOG_LEVEL": "info"})
    server = Server(env=env, args=["--upstream", "echo"]).start()
    token, project = server.verified_account("drill@example.com")
    key = server.key(token, project)
    writers = Writers(server.port, token, key)
    writers.start()
    time.sleep(2.0 + random.random())
    killed_at = time.monotonic()
    server.signal(signal.SIGKILL)
    server.wait(timeout=10)
    writers.join()
    assert writers.projects and writers.calls

    restarted = Server(data_dir=server.data_dir, port=server.port, env=env).start()
    try:
        stored = all_project_ids(restarted, token)
        lost = [id for id in writers.projects if id not in stored]
        assert not lost, f"{len(lost)} of {len(writers.projects)} acknowledged projects lost"
        # Usage is written every second: calls answered more than two seconds before the kill
        # are all recorded, and nothing is counted twice.
        settled = sum(1 for at in writers.calls if at < killed_at - 2.0)
        recorded = restarted.requests_recorded(token)
        assert settled <= recorded <= len(writers.calls) + 3, (settled, recorded, len(writers.calls))
    finally:
        restarted.stop()
