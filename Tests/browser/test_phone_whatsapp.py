"""The Phone page on a server that offers WhatsApp for British numbers (`whatsapp_countries`):
"Send the code by" with Text message (SMS) chosen and the countries WhatsApp is offered for, a
code by WhatsApp for a British number, and for a number from elsewhere the sentence next to the
choice; without JavaScript and with it."""

import shutil
import tempfile

import pytest

from keywarden_browser import SERVER_ENV, UNITED_STATES, Server, unique_email

BRITISH_MOBILE = "7400 123456"
BRITISH_E164 = "+447400123456"


@pytest.fixture(scope="module")
def server():
    data_dir = tempfile.mkdtemp(prefix="keywarden-browser-")
    environment = dict(SERVER_ENV, KEYWARDEN_WHATSAPP_COUNTRIES="GB")
    server = Server(data_dir=data_dir, args=["--upstream", "echo"], env=environment).start()
    yield server
    server.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def open_phone_page(page):
    page.sign_up(unique_email("whatsapp"))
    page.open("/settings/account/phone")
    assert page.heading() == "Phone"


def test_a_british_number_gets_its_code_by_whatsapp(browser_without_javascript, server):
    page = browser_without_javascript
    open_phone_page(page)
    assert page.field("Text message (SMS)").is_selected()
    assert not page.field("WhatsApp").is_selected()
    assert "WhatsApp is offered for numbers from United Kingdom." in page.text()
    page.select("Country").select_by_visible_text("United Kingdom (+44)")
    page.fill("Phone number", BRITISH_MOBILE)
    page.field("WhatsApp").click()
    sent = len(server.outbox())
    page.click("Send code")
    server.code_sent_to(BRITISH_E164, after=sent)
    assert [entry["channel"] for entry in server.outbox()[sent:]] == ["whatsapp"]
    assert "We sent a code by WhatsApp to" in page.text()
    assert page.field("Verification code") is not None


def test_whatsapp_for_a_number_from_elsewhere_is_refused_next_to_the_choice(browser, server):
    open_phone_page(browser)
    browser.select("Country").select_by_visible_text(UNITED_STATES)
    browser.fill("Phone number", "201 555 0123")
    browser.field("WhatsApp").click()
    sent = len(server.outbox())
    browser.click("Send code")
    sentence = browser.error_next_to("WhatsApp")
    assert "WhatsApp is offered only for numbers from United Kingdom." in sentence, repr(sentence)
    assert "Text message (SMS)" in sentence, repr(sentence)
    assert browser.field("WhatsApp").is_selected()
    assert len(server.outbox()) == sent, "a code was sent by a channel the country is not offered"
