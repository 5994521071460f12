"""The official openai package against Keywarden's gateway and its echo upstream."""

import time

import openai
import pytest

from keywarden_account import call


@pytest.fixture(scope="module")
def client(account, base_url):
    key, _ = account.key(name="sdk-main")
    return openai.OpenAI(api_key=key, base_url=base_url, max_retries=0)


def test_chat_completion_succeeds(client):
    completion = client.chat.completions.create(
        model="echo-1",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello from the sdk"}],
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "hello from the sdk"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_streamed_chat_completion_arrives_chunk_by_chunk_with_usage(client):
    stream = client.chat.completions.create(
        model="echo-1",
        messages=[{"role": "user", "content": "one two three four"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage, chunks = [], None, 0
    for chunk in stream:
        chunks += 1
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.usage:
            usage = chunk.usage
    assert "".join(pieces) == "one two three four"
    assert chunks >= 6
    assert usage is not None and usage.completion_tokens > 0


def test_models_and_embeddings(client):
    assert [model.id for model in client.models.list()] == ["echo-1"]
    embeddings = client.embeddings.create(model="echo-1", input=["a", "bc"])
    assert len(embeddings.data) == 2
    assert len(embeddings.data[0].embedding) == 8


def test_rate_limit_headers_count_down(account, base_url):
    project = account.project_named("sdk-countdown")
    call("POST", f"/v1/organization/projects/{project}/rate_limits", account.token, {"max_requests_per_1_minute": 6})
    key, _ = account.key(project=project, name="sdk-countdown")
    client = openai.OpenAI(api_key=key, base_url=base_url, max_retries=0)
    first = client.chat.completions.with_raw_response.create(
        model="echo-1", messages=[{"role": "user", "content": "count"}]
    )
    second = client.chat.completions.with_raw_response.create(
        model="echo-1", messages=[{"role": "user", "content": "count"}]
    )
    for response in (first, second):
        for name in ("requests", "tokens"):
            assert response.headers[f"x-ratelimit-limit-{name}"].isdigit()
            assert response.headers[f"x-ratelimit-reset-{name}"].endswith("s")
    assert first.headers["x-ratelimit-limit-requests"] == "6"
    assert first.headers["x-ratelimit-remaining-requests"] == "5"
    assert second.headers["x-ratelimit-remaining-requests"] == "4"
    assert first.headers["x-ratelimit-reset-requests"] == "10s"
    assert second.headers["x-request-id"].startswith("req_")


def test_a_wrong_key_raises_authentication_error(base_url):
    forged = "sk-proj-" + "A" * 38
    with pytest.raises(openai.AuthenticationError) as raised:
        openai.OpenAI(api_key=forged, base_url=base_url, max_retries=0).models.list()
    assert raised.value.status_code == 401
    assert raised.value.code == "invalid_api_key"
    assert forged not in str(raised.value)


def test_a_revoked_key_is_refused_on_its_next_call(account, base_url):
    key, key_id = account.key(name="sdk-revoked")
    sdk = openai.OpenAI(api_key=key, base_url=base_url, max_retries=0)
    assert sdk.models.list().data
    status, _, _ = call("DELETE", f"/v1/organization/projects/{account.project}/api_keys/{key_id}", account.token)
    assert status == 200
    with pytest.raises(openai.AuthenticationError):
        sdk.models.list()


def test_exceeding_a_limit_raises_rate_limit_error_after_retries_that_honour_retry_after(account, base_url):
    # A project limited to 60 requests a minute: one comes back every second.
    project = account.project_named("sdk-limited")
    status, _, limits = call(
        "POST",
        f"/v1/organization/projects/{project}/rate_limits",
        account.token,
        {"max_requests_per_1_minute": 60},
    )
    assert status == 200 and limits["max_requests_per_1_minute"] == 60
    sdk_key, _ = account.key(project=project, name="sdk-limited")
    rival_key, _ = account.key(project=project, name="sdk-rival")

    # Use up the project's minute with the rival key.
    admitted = 0
    while call("GET", "/v1/models", rival_key)[0] == 200:
        admitted += 1
        assert admitted <= 61
    assert admitted >= 59

    attempts, answers = [], []

    def before_each_attempt(request):
        attempts.append(time.monotonic())
        if len(attempts) > 1:
            # The SDK has waited as told; take the request that came back before it can.
            deadline = time.monotonic() + 3
            while call("GET", "/v1/models", rival_key)[0] != 200:
                assert time.monotonic() < deadline
                time.sleep(0.02)

    def after_each_attempt(response):
        answers.append((response.status_code, response.headers.get("retry-after-ms")))

    http_client = openai.DefaultHttpxClient(
        event_hooks={"request": [before_each_attempt], "response": [after_each_attempt]}
    )
    sdk = openai.OpenAI(api_key=sdk_key, base_url=base_url, max_retries=2, http_client=http_client)
    with pytest.raises(openai.RateLimitError) as raised:
        sdk.chat.completions.create(model="echo-1", messages=[{"role": "user", "content": "one more"}])
    assert raised.value.code == "rate_limit_exceeded"
    assert raised.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert int(raised.value.response.headers["retry-after"]) >= 1
    assert len(attempts) == 3
    assert [status for status, _ in answers] == [429, 429, 429]
    for (_, waited_ms), earlier, later in zip(answers, attempts, attempts[1:]):
        assert waited_ms is not None and 0 < int(waited_ms) <= 1000
        assert later - earlier >= int(waited_ms) / 1000 - 0.01


def test_usage_is_reported_per_key(account):
    now = int(time.time())
    deadline = time.monotonic() + 10
    while True:
        status, _, page = call(
            "GET",
            f"/v1/organization/usage/completions?start_time={now - 3600}&bucket_width=1h&group_by=api_key_id",
            account.token,
        )
        assert status == 200, page
        results = [result for bucket in page["data"] for result in bucket["results"]]
        if sum(result["num_model_requests"] for result in results) > 0:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert page["object"] == "page"
    assert all(result["object"] == "organization.usage.completions.result" for result in results)
    assert all(result["api_key_id"].startswith("key_") for result in results)
    assert sum(result["input_tokens"] for result in results) > 0
    assert sum(result["num_model_request_errors"] for result in results) >= 3
