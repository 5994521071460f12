"""A month of costs in the browser, by the labels of DESIGN §9 and §10: a new organization buys
credit (which earns Tier 1), makes calls at known prices, sees their cost on the Usage page and
the Billing history, sets an organization budget on the Limits page (a bad amount is refused next
to its field) and is refused once the budget is spent."""

import shutil
import tempfile
import time

import pytest

from keywarden_browser import SERVER_ENV, Server, unique_email, words
from test_billing import add_card, assert_phone_step, balance, history, open_billing, verify_phone

# A thousandth of a dollar a token, in and out: a call of a few words costs a few cents.
PRICES = "echo-1: input=1000 output=1000"
CHAT = {"model": "echo-1", "messages": [{"role": "user", "content": "hello gateway world"}]}


@pytest.fixture(scope="module")
def server():
    """This module's server: the suite's, with priced model calls and the test payment provider."""
    data_dir = tempfile.mkdtemp(prefix="keywarden-browser-costs-")
    env = dict(SERVER_ENV, KEYWARDEN_PAYMENT_PROVIDER="test", KEYWARDEN_MODEL_PRICES=PRICES)
    started = Server(data_dir=data_dir, args=["--upstream", "echo"], env=env).start()
    yield started
    started.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def dollars(cents_times_hundred):
    """Micro-units of a dollar as the dashboard writes them: $0.02, or $0.0215 past the cent."""
    whole, fraction = divmod(cents_times_hundred, 1_000_000)
    digits = f"{fraction:06d}".rstrip("0")
    return f"${whole}.{digits.ljust(2, '0')}"


def buy_ten_dollars(page, server):
    page.sign_up(unique_email("costs"))
    open_billing(page)
    add_card(page, "4242 4242 4242 4242")
    assert_phone_step(page)
    verify_phone(page, server)
    assert page.heading() == "Add credits", f"{page.url}: {page.messages()}"
    page.click("Add credits")
    assert balance(page) == "$10.00", page.messages()


def create_key(page):
    page.nav("API keys")
    page.click("Create new secret key")
    page.fill("Name", "costs")
    page.click("Create secret key")
    key = page.new_key_value()
    page.click("Done")
    return key


def priced_call(server, key):
    """One chat completion; its cost in micro-units, from the usage it reports."""
    status, _, answer = server.call("POST", "/v1/chat/completions", key, CHAT)
    assert status == 200, answer
    usage = answer["usage"]
    return (usage["prompt_tokens"] + usage["completion_tokens"]) * 1000


def test_a_month_of_costs_ends_with_the_balance_the_cost_the_tier_and_the_refusal_exact(browser, server):
    page = browser
    buy_ten_dollars(page, server)

    # $10 paid earns Tier 1; the page says what Tier 2 still needs.
    page.nav("Limits")
    assert page.heading() == "Limits"
    assert words(page.visible("//*[@id='tier']", "the tier").text) == "Tier 1"
    assert words(page.visible("//*[@id='monthly-usage-limit']", "the limit").text) == "$100.00 a month"
    following = words(page.visible("//*[@id='next-tier']", "the next tier").text)
    assert following.startswith("Tier 2 needs $50.00 paid (you have paid $10.00: $40.00 more)"), following
    assert "7 days since your first payment" in following, following

    key = create_key(page)
    spent = priced_call(server, key) + priced_call(server, key)

    # The Usage page shows what the calls cost once they are written (every second).
    page.nav("Usage")
    deadline = time.monotonic() + 8
    while words(page.visible("//*[@id='total-cost']", "the total cost").text) != f"Cost of this range: {dollars(spent)}":
        assert time.monotonic() < deadline, page.visible("//*[@id='total-cost']", "the total cost").text
        time.sleep(0.5)
        page.reload()

    assert page.shown("//*[local-name()='svg'][contains(@aria-label, 'Cost per day')]"), "no cost chart"

    # The balance lost exactly that, in one usage line of today.
    open_billing(page)
    assert balance(page) == dollars(10_000_000 - spent), balance(page)
    usage_rows = [row for row in history(page) if row[1].startswith("API usage on ")]
    assert len(usage_rows) == 1 and usage_rows[0][2] == "-" + dollars(spent), history(page)

    # A budget is checked where it is typed, and nothing is saved when it is wrong.
    page.nav("Limits")
    page.fill("Monthly budget", "a lot")
    page.click("Save")
    assert page.error_next_to("Monthly budget"), page.messages()
    assert page.field("Monthly budget").get_attribute("value") == "a lot"
    assert "No monthly budget is set." in page.text()

    # A budget of one cent, less than what was spent: the next priced call is refused.
    page.fill("Monthly budget", "0.01")
    page.click("Save")
    spend = words(page.visible("//*[@id='organization-spend']", "the budget's spend").text)
    assert spend == f"Spent this month: {dollars(spent)} of $0.01.", spend
    status, headers, refused = server.call("POST", "/v1/chat/completions", key, CHAT)
    assert status == 429, refused
    assert refused["error"]["code"] == "organization_spend_limit_exceeded", refused
    assert "$0.01" in refused["error"]["message"]
    assert headers.get("x-should-retry") == "false"

    # Removing the budget lets calls through again.
    page.click("Remove budget", confirm=True)
    assert "No monthly budget is set." in page.text(), page.messages()
    assert server.call("POST", "/v1/chat/completions", key, CHAT)[0] == 200
