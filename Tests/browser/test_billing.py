"""Settings → Billing with the built-in test provider, by the labels of DESIGN §9 and §10: a new
organization saves a card on the test checkout, verifies a phone number inside the billing flow
(path A) and buys its first credits; and each test card does what Stripe's test card does,
said in words on the page it leads to."""

import shutil
import tempfile
import urllib.parse

import pytest
from selenium.webdriver.common.by import By

from keywarden_browser import SERVER_ENV, UNITED_STATES, Server, unique_email, words

NUMBER = "201 555 0123"
E164 = "+12015550123"
EXPIRY = "12 / 34"
CVC = "123"

# How many organizations one card may pay for: the default, said here so the limit test does not
# depend on it.
CARD_LIMIT = 3
# The card the limit test shares between its organizations, used by no other test of the module
# (a card counts toward the limit in every organization that saved it).
SHARED_CARD = "5555 5555 5555 4444"

DECLINED = "Your card was declined. Try another card or contact your bank."
LIMIT_SENTENCE = f"This card is already used by the maximum number of organizations ({CARD_LIMIT})."
TEST_CARDS_ONLY = "Test mode takes only test cards"
NOT_CONFIRMED_CARD = "Your bank could not confirm the card, so it was not saved."
NOT_CONFIRMED_PAYMENT = "The payment was not confirmed with your bank, so nothing was charged."


@pytest.fixture(scope="module")
def server():
    """This module's server: the suite's, with the test payment provider and the card limit named."""
    data_dir = tempfile.mkdtemp(prefix="keywarden-browser-billing-")
    env = dict(
        SERVER_ENV,
        KEYWARDEN_PAYMENT_PROVIDER="test",
        KEYWARDEN_MAX_ORGANIZATIONS_PER_CARD=str(CARD_LIMIT),
    )
    started = Server(data_dir=data_dir, args=["--upstream", "echo"], env=env).start()
    yield started
    started.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


# Steps.


def open_billing(page):
    page.nav("Billing")
    assert page.heading() == "Billing", f"{page.url}: {page.heading()!r}"


def balance(page):
    return words(page.visible("//*[@id='balance']", "the balance").text)


def cards(page):
    """The saved cards as the Billing page lists them, such as 'Visa •••• 4242'."""
    return [words(cell.text) for cell in page.shown("//table[contains(@class, 'cards')]/tbody/tr/td[1]")]


def history(page):
    """The rows of the history table: [date, description, amount]."""
    rows = page.shown("//table[contains(@class, 'history')]/tbody/tr")
    return [[words(cell.text) for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def said(page, sentence):
    """Whether one of the page's messages says `sentence`."""
    return any(sentence in message for message in page.messages())


def open_checkout(page):
    """From the Billing page, "Add payment method": the test checkout, labelled as test mode."""
    page.click("Add payment method")
    assert urllib.parse.urlsplit(page.url).path.startswith("/test-checkout/"), page.url
    assert "test mode" in page.text().lower()
    assert "test mode, no real card is charged" in page.heading(), page.heading()


def enter_card(page, number):
    page.fill("Card number", number)
    page.fill("Expiry (MM / YY)", EXPIRY)
    page.fill("Security code", CVC)
    page.click("Save card")


def add_card(page, number):
    open_checkout(page)
    enter_card(page, number)


def assert_phone_step(page):
    """A saved card in an unverified organization leads to the phone step of the billing flow."""
    assert page.path.startswith("/settings/organization/billing/phone"), f"{page.url}: {page.messages()}"
    assert page.heading() == "Verify a phone number", page.heading()
    assert "Your card is saved." in page.text()


def verify_phone(page, server):
    page.select("Country").select_by_visible_text(UNITED_STATES)
    page.fill("Phone number", NUMBER)
    sent = len(server.outbox())
    page.click("Send code")
    page.fill("Verification code", server.code_sent_to(E164, after=sent))
    page.click("Verify")


# Path A.


def walk_path_a(page, server):
    page.sign_up(unique_email("billing"))
    assert page.banner_link() is not None
    open_billing(page)
    assert "test mode: no real money moves." in page.text().lower()
    assert balance(page) == "$0.00"
    assert not cards(page)

    add_card(page, "4242 4242 4242 4242")
    assert_phone_step(page)
    verify_phone(page, server)

    assert page.path == "/settings/organization/billing/credits", f"{page.url}: {page.messages()}"
    assert page.heading() == "Add credits"
    assert page.field("Amount").get_attribute("value") == "10.00"
    page.click("Add credits")

    assert page.heading() == "Billing", f"{page.url}: {page.messages()}"
    assert "Added $10.00 of credit." in page.messages(), page.messages()
    assert balance(page) == "$10.00"
    assert cards(page) == ["Visa •••• 4242"]
    assert "12/34" in page.text()
    rows = history(page)
    assert len(rows) == 1, rows
    assert rows[0][1:] == ["Credit purchase", "$10.00"], rows

    # The organization is verified: no banner, and General says so.
    assert page.banner_link() is None
    page.nav("General")
    verification = words(page.visible("//dt[normalize-space()='Verification']/following-sibling::dd[1]", "status").text)
    assert verification.startswith("Verified"), verification

    # The approval is in the audit log, by the billing path.
    page.nav("Audit log")
    page.select("Event type").select_by_value("phone_verification.approved")
    page.click("Filter")
    approvals = page.shown("//table[contains(@class, 'audit-log')]/tbody/tr")
    assert len(approvals) == 1, [row.text for row in approvals]
    assert "path=billing" in words(approvals[0].text), approvals[0].text


def test_path_a_saves_a_card_verifies_the_phone_and_adds_credits(browser, server):
    walk_path_a(browser, server)


def test_path_a_without_javascript(browser_without_javascript, server):
    walk_path_a(browser_without_javascript, server)


# The test cards.


def test_a_card_whose_charges_fail_is_saved_but_adding_credits_is_declined(browser, server):
    page = browser
    page.sign_up(unique_email("charges-fail"))
    open_billing(page)
    add_card(page, "4000 0000 0000 0341")
    assert_phone_step(page)

    open_billing(page)
    assert cards(page) == ["Visa •••• 0341"]
    page.click("Add credits")
    assert page.heading() == "Billing"
    assert said(page, DECLINED), page.messages()
    assert balance(page) == "$0.00"
    assert not history(page)

    # The card is removed once the dialog is confirmed, and not before.
    page.click("Remove", confirm=False)
    assert cards(page) == ["Visa •••• 0341"]
    page.click("Remove", confirm=True)
    assert "Card removed." in page.messages(), page.messages()
    assert not cards(page)


def test_the_refused_card_is_not_saved(browser_without_javascript, server):
    page = browser_without_javascript
    page.sign_up(unique_email("refused"))
    open_billing(page)
    add_card(page, "4100 0000 0000 0019")
    assert page.heading() == "Billing", f"{page.url}: {page.messages()}"
    assert said(page, DECLINED), page.messages()
    assert not cards(page)
    assert "No card is saved." in page.text()
    assert page.banner_link() is not None


def test_a_card_that_asks_for_confirmation_is_saved_only_when_completed(browser_without_javascript, server):
    page = browser_without_javascript
    page.sign_up(unique_email("confirm-card"))
    open_billing(page)

    add_card(page, "4000 0025 0000 3155")
    assert page.has_heading("Your bank asks you to confirm this card"), page.text()
    page.click("Fail")
    assert page.heading() == "Billing", f"{page.url}: {page.messages()}"
    assert said(page, NOT_CONFIRMED_CARD), page.messages()
    assert not cards(page)

    add_card(page, "4000 0025 0000 3155")
    assert page.has_heading("Your bank asks you to confirm this card"), page.text()
    page.click("Complete")
    assert_phone_step(page)
    open_billing(page)
    assert cards(page) == ["Visa •••• 3155"]


def test_a_card_that_asks_for_confirmation_of_every_charge(browser_without_javascript, server):
    page = browser_without_javascript
    page.sign_up(unique_email("confirm-charge"))
    open_billing(page)
    add_card(page, "4000 0027 6000 3184")
    page.click("Complete")
    assert_phone_step(page)
    open_billing(page)
    assert cards(page) == ["Visa •••• 3184"]

    page.click("Add credits")
    assert page.path.startswith("/test-checkout/payments/"), f"{page.url}: {page.messages()}"
    assert page.has_heading("Your bank asks you to confirm this payment")
    assert "test mode" in page.text().lower()
    assert "$10.00" in page.text() and "3184" in page.text()
    page.click("Complete")
    assert page.heading() == "Billing", f"{page.url}: {page.messages()}"
    assert "Added $10.00 of credit." in page.messages(), page.messages()
    assert balance(page) == "$10.00"

    page.click("Add credits")
    assert page.path.startswith("/test-checkout/payments/"), page.url
    page.click("Fail")
    assert page.heading() == "Billing", f"{page.url}: {page.messages()}"
    assert said(page, NOT_CONFIRMED_PAYMENT), page.messages()
    assert balance(page) == "$10.00"
    assert len(history(page)) == 1, history(page)


def test_a_real_card_number_is_refused_and_never_shown_back(browser_without_javascript, server):
    page = browser_without_javascript
    page.sign_up(unique_email("real-card"))
    open_billing(page)
    open_checkout(page)
    checkout = urllib.parse.urlsplit(page.url).path
    enter_card(page, "4012 8888 8888 1881")  # Luhn-valid, and not a test card

    assert urllib.parse.urlsplit(page.url).path == checkout, page.url
    sentence = page.error_next_to("Card number")
    assert TEST_CARDS_ONLY in sentence, repr(sentence)
    assert page.field("Card number").get_attribute("value") == ""
    assert page.field("Card number").get_attribute("autocomplete") == "off"
    assert page.field("Expiry (MM / YY)").get_attribute("value") == EXPIRY
    source = page.driver.page_source
    assert "4012888888881881" not in source and "4012 8888 8888 1881" not in source
    assert "4012" not in page.url and "1881" not in page.url
    log = server.log()
    assert "4012888888881881" not in log and "4012+8888" not in log and "4012 8888" not in log

    page.click("Cancel")
    assert page.heading() == "Billing", page.url
    assert not cards(page)


def test_one_card_pays_for_at_most_three_organizations(browser_without_javascript, server):
    page = browser_without_javascript
    page.sign_up(unique_email("card-limit"))
    for count in range(1, CARD_LIMIT + 2):
        if count > 1:
            page.nav("General")
            page.fill("Name of the new organization", f"Card limit {count}")
            page.click("Create organization")
            assert "Organization created." in page.messages(), page.messages()
        open_billing(page)
        add_card(page, SHARED_CARD)
        if count <= CARD_LIMIT:
            assert_phone_step(page)
            open_billing(page)
            assert cards(page) == ["Mastercard •••• 4444"], count
        else:
            assert page.heading() == "Billing", f"{page.url}: {page.messages()}"
            assert said(page, LIMIT_SENTENCE), page.messages()
            assert not cards(page)


def test_another_persons_card_page_is_not_found(browser_without_javascript, server):
    page = browser_without_javascript
    page.sign_up(unique_email("card-page-owner"))
    open_billing(page)
    open_checkout(page)
    card_page = page.path
    page.open("/settings/organization/billing")
    page.click("Log out")
    page.sign_up(unique_email("card-page-stranger"))
    page.open(card_page)
    assert page.heading() == "Page not found", f"{page.url}: {page.heading()!r}"
    assert "Card number" not in page.text()
