"""Priced calls refused for want of credit, monthly usage or budget, as the official openai package
sees them: 429 `insufficient_quota` errors it does not retry."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import openai
import pytest

from keywarden_account import Account

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("KEYWARDEN_SDK_BINARY", os.path.join(HERE, "..", "..", ".build", "debug", "keywarden"))
QUOTA_SENTENCE = "You exceeded your current quota, please check your plan and billing details."
# 40 characters: 10 prompt tokens, echoed as 10 completion tokens. At $1,000 per million tokens a
# call costs $0.02, more than the 1-cent budgets and monthly limit below.
PROMPT = "a call that costs two cents at echo-1 !!"
SETTINGS = {
    "KEYWARDEN_MODEL_PRICES": "echo-1: input=1000 output=1000; free-1: input=0 output=0",
    "KEYWARDEN_USAGE_TIERS": "sdk: paid=0 monthly=none rpm=100000 tpm=100000000; "
    "capped: paid=pinned monthly=0.01 rpm=100000 tpm=100000000",
    "KEYWARDEN_BCRYPT_COST": "4",
    # Every test signs up an organization of its own from this address and verifies it with one number.
    "KEYWARDEN_SIGNUPS_PER_ADDRESS_PER_HOUR": "1000",
    "KEYWARDEN_MAX_ORGANIZATIONS_PER_PHONE": "1000",
    "KEYWARDEN_SMS_SENDS_PER_NUMBER_PER_10_MINUTES": "1000",
    "KEYWARDEN_SMS_SENDS_PER_NUMBER_PER_DAY": "1000",
}


class PricedServer:
    """A `keywarden serve` with the echo upstream and priced calls, and the operator's command line
    on its database."""

    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="keywarden-sdk-spend-")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        # Only these settings: none of the shell's KEYWARDEN_* (tiers given twice refuse to start).
        self.env = {name: value for name, value in os.environ.items() if not name.startswith("KEYWARDEN_")}
        self.env.update(SETTINGS)

    def __enter__(self):
        with open(os.path.join(self.data_dir, "server.log"), "ab") as log:
            self.process = subprocess.Popen(
                [BINARY, "serve", "--upstream", "echo", "--port", str(self.port), "--data-dir", self.data_dir],
                stdout=log, stderr=subprocess.STDOUT, env=self.env,
            )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                with open(os.path.join(self.data_dir, "server.log"), errors="replace") as log:
                    raise AssertionError("server did not start:\n" + log.read())
            try:
                urllib.request.urlopen(self.base_url + "/readyz", timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=15)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def account(self, name):
        return Account(f"{name}@example.com", base_url=self.base_url, data_dir=self.data_dir)

    def admin(self, *args):
        """`keywarden admin org ARGS` against this server's database, with its settings."""
        finished = subprocess.run(
            [BINARY, "admin", "org", *args, "--data-dir", self.data_dir],
            env=self.env, capture_output=True, text=True, timeout=60,
        )
        assert finished.returncode == 0, finished.stdout + finished.stderr

    def sdk(self, account, project=None, max_retries=0, **options):
        """The official client with a new key of the account's project (its default one unless given)."""
        key, _ = account.key(project=project)
        return openai.OpenAI(api_key=key, base_url=self.base_url + "/v1", max_retries=max_retries, **options)


@pytest.fixture(scope="module")
def server():
    with PricedServer() as running:
        yield running


def chat(sdk, model="echo-1"):
    return sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": PROMPT}])


def await_spend(account, path="/v1/organization/spend_limits"):
    """Waits until the month's spend that `path` shows counts the $0.02 call (usage is written
    about once a second), so its cost is surely counted before the next call."""
    deadline = time.monotonic() + 10
    while True:
        status, _, limits = account.call("GET", path, account.token)
        assert status == 200, limits
        if limits["spent_this_month"]["micros"] >= 20_000:
            return
        assert time.monotonic() < deadline, limits
        time.sleep(0.1)


def refusal(sdk, model=None):
    """The error of a priced call that must be refused."""
    with pytest.raises(openai.RateLimitError) as raised:
        chat(sdk) if model is None else chat(sdk, model=model)
    assert raised.value.status_code == 429
    assert raised.value.type == "insufficient_quota"
    assert raised.value.response.headers["x-should-retry"] == "false"
    return raised.value


def test_no_credit_is_insufficient_quota_and_the_sdk_does_not_retry_it(server):
    account = server.account("no-credit")
    refused = refusal(server.sdk(account))
    assert refused.code == "insufficient_quota"
    assert refused.body["message"] == QUOTA_SENTENCE
    assert refused.param is None

    attempts = []
    http_client = openai.DefaultHttpxClient(event_hooks={"request": [attempts.append]})
    retrying = server.sdk(account, max_retries=openai.DEFAULT_MAX_RETRIES, http_client=http_client)
    assert retrying.max_retries > 0
    started = time.monotonic()
    assert refusal(retrying).code == "insufficient_quota"
    assert len(attempts) == 1
    assert time.monotonic() - started < 1  # the SDK's first back-off alone is half a second or more


def test_granted_credit_lets_priced_calls_through_within_seconds(server):
    account = server.account("granted")
    sdk = server.sdk(account)
    assert refusal(sdk).code == "insufficient_quota"
    server.admin("grant-credits", account.organization, "0.05", "--reason", "sdk test")
    # A refusal stands for about 2 seconds before the balance is read again.
    deadline = time.monotonic() + 5
    while True:
        try:
            completion = chat(sdk)
            break
        except openai.RateLimitError as refused:
            assert refused.code == "insufficient_quota" and time.monotonic() < deadline
            time.sleep(0.1)
    assert completion.choices[0].message.content == PROMPT
    assert completion.usage.total_tokens == 20


def test_a_spent_organization_budget_is_refused_with_its_own_code(server):
    account = server.account("organization-budget")
    server.admin("grant-credits", account.organization, "5")
    status, _, limits = account.call(
        "POST", "/v1/organization/spend_limits", account.token, {"monthly_budget": 1, "hard_limit": True}
    )
    assert status == 200, limits
    sdk = server.sdk(account)
    chat(sdk)
    await_spend(account)
    refused = refusal(sdk)
    assert refused.code == "organization_spend_limit_exceeded"
    assert "monthly spend limit of $0.01" in refused.body["message"]


def test_a_spent_project_budget_is_refused_with_its_own_code(server):
    account = server.account("project-budget")
    server.admin("grant-credits", account.organization, "5")
    project = account.project_named("budgeted")
    status, _, limits = account.call(
        "POST", f"/v1/organization/projects/{project}/spend_limits", account.token, {"monthly_budget": 1}
    )
    assert status == 200, limits
    budgeted = server.sdk(account, project=project)
    chat(budgeted)
    await_spend(account, f"/v1/organization/projects/{project}/spend_limits")
    refused = refusal(budgeted)
    assert refused.code == "project_spend_limit_exceeded"
    assert "This project reached its monthly spend limit of $0.01" in refused.body["message"]
    # The organization's other projects go on.
    assert chat(server.sdk(account)).usage.total_tokens == 20


def test_a_spent_tier_monthly_limit_is_insufficient_quota_naming_the_tier(server):
    account = server.account("capped")
    server.admin("grant-credits", account.organization, "5")
    server.admin("set-tier", account.organization, "capped")
    sdk = server.sdk(account)
    chat(sdk)
    await_spend(account)
    refused = refusal(sdk)
    assert refused.code == "insufficient_quota"
    assert refused.body["message"] != QUOTA_SENTENCE
    assert "usage tier (capped) allows $0.01 of usage a month" in refused.body["message"]


def test_only_a_model_listed_at_no_cost_needs_no_credit(server):
    account = server.account("unpriced")
    sdk = server.sdk(account)
    completion = chat(sdk, model="free-1")
    assert completion.model == "free-1"
    assert completion.choices[0].message.content == PROMPT
    assert refusal(sdk).code == "insufficient_quota"
    # A model that is not listed could be answered by a priced one, so it needs credit too.
    assert refusal(sdk, model="unlisted-1").code == "insufficient_quota"
