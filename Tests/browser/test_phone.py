"""The Phone page: each refusal a sentence next to what it is about, saying what to do next; the
attempts a wrong code leaves; the resend cooldown, counted down by the script and explained
without it; and what a verified organization sees."""

import re

import pytest

from keywarden_browser import UNITED_STATES, unique_email

NUMBER = "201 555 0123"
E164 = "+12015550123"

# Numbers the offline metadata classifies: the British landline and the US toll-free number of
# Tests/KeywardenServerTests (`Numbers`), and a British VoIP number (the 56 range; the same
# number is classified voip in Tests/PhoneNumbersTests/Corpus).
NOT_MOBILE = [
    pytest.param("+44 56 1234 5678", "VoIP", id="voip"),
    pytest.param("+44 20 7946 0018", "Landline", id="british-landline"),
    pytest.param("+1 800 253 0000", "Toll-free", id="us-toll-free"),
]


def open_phone_page(page):
    page.sign_up(unique_email("phone"))
    page.open("/settings/account/phone")
    assert page.heading() == "Phone"


def send_code(page, server):
    page.select("Country").select_by_visible_text(UNITED_STATES)
    page.fill("Phone number", NUMBER)
    sent = len(server.outbox())
    page.click("Send code")
    return server.code_sent_to(E164, after=sent)


@pytest.mark.parametrize("number, kind", NOT_MOBILE)
def test_a_number_that_is_not_a_mobile_is_refused_in_words_next_to_the_field(browser, server, number, kind):
    open_phone_page(browser)
    browser.fill("Phone number", number)
    sent = len(server.outbox())
    browser.click("Send code")
    sentence = browser.error_next_to("Phone number")
    assert kind.lower() in sentence.lower() and "mobile number" in sentence, repr(sentence)
    assert "phone_line_type_not_allowed" not in browser.driver.page_source
    assert len(server.outbox()) == sent, "a code was sent to a refused number"
    assert browser.banner_link() is not None


def test_a_wrong_code_says_how_many_attempts_are_left(browser, server):
    open_phone_page(browser)
    code = send_code(browser, server)
    browser.fill("Verification code", f"{(int(code) + 1) % 1_000_000:06d}")
    browser.click("Verify")
    sentence = browser.error_next_to("Verification code")
    assert re.search(r"\b4 attempts left\b", sentence), repr(sentence)
    assert browser.banner_link() is not None


def test_resend_code_counts_down_while_it_cannot_be_used(browser, server):
    open_phone_page(browser)
    send_code(browser, server)
    buttons = browser.buttons("Resend code", starts_with=True)
    assert buttons, f"no 'Resend code' on {browser.url}"
    assert not buttons[0].is_enabled()
    assert re.search(r"\d+", buttons[0].text), buttons[0].text


def test_an_early_resend_without_javascript_says_how_many_seconds_are_left(browser_without_javascript, server):
    page = browser_without_javascript
    open_phone_page(page)
    send_code(page, server)
    buttons = page.buttons("Resend code", starts_with=True)
    assert buttons and buttons[0].is_enabled(), "without the script, 'Resend code' is a plain button"
    sent = len(server.outbox())
    page.click(buttons[0])
    sentences = page.messages() + [page.error_next_to("Verification code")]
    assert any(re.search(r"\b\d+ seconds?\b", s) for s in sentences), sentences
    assert len(server.outbox()) == sent, "a code was sent again before the cooldown ended"


def test_a_verified_organization_sees_its_masked_number(browser_without_javascript, server):
    page = browser_without_javascript
    open_phone_page(page)
    code = send_code(page, server)
    page.fill("Verification code", code)
    page.click("Verify")
    assert page.banner_link() is None
    page.nav("Phone")
    assert page.heading() == "Phone"
    text = page.text()
    assert "••23" in text, text
    assert NUMBER not in text and E164 not in text
