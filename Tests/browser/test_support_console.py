"""Support and the operator console in the browser, by the labels of DESIGN §9 and §12: a person
whose only number is VoIP asks for help on the Support page and gets a key once an operator
approves; an operator suspends an organization, whose keys the gateway then refuses until it is
unsuspended; the verification insights count a scripted day exactly; and the console is closed
to everyone who is not an operator.

Operators are granted on the command line (`keywarden admin operator grant EMAIL`) and turn
two-factor authentication on in the browser, as test_two_factor.py does. Each server's operator
is made once per module; later tests put that operator's session cookie into a browser of their
own, so no test waits for a fresh authentication code.
"""

import decimal
import re
import shutil
import tempfile
import uuid

import pytest
from selenium.webdriver.common.by import By

from keywarden_browser import (
    BANNER,
    KEY_FORMAT,
    PASSWORD,
    SERVER_ENV,
    UNITED_STATES,
    Server,
    keywarden,
    literal,
    send,
    text_is,
    unique_email,
    words,
)
from test_two_factor import Authenticator

CHAT = {"model": "echo-1", "messages": [{"role": "user", "content": "hello from support"}]}
NUMBER = "201 555 0123"
E164 = "+12015550123"
# A British VoIP number (the 56 range), which the offline metadata types voip (test_phone.py).
VOIP = "+44 56 1234 5678"

REASONS = [
    "I have no mobile phone",
    "I only have VoIP or landline numbers",
    "My country is not supported",
    "The code never arrives",
    "Something else",
]
CONSOLE_NAV = ["Support queue", "Organizations", "Verification insights", "Prefix guard", "Audit log"]
INSIGHT_COLUMNS = ["Country", "Started", "Sent", "Approved", "Conversion", "Refused", "Estimated SMS spend"]

SENT = "Your request was sent. An operator will answer by email."
TURN_ON_TWO_FACTOR = "Turn on two-factor authentication to open the operator console"
SUSPENDED = "This organization is suspended"

# What a text message costs on the insights test's server: whole cents, so the estimate is the
# same amount however many decimals the page writes.
SMS_PRICES = "US=0.01 GB=0.05"


# Servers and operators.


@pytest.fixture(scope="module")
def insights_server():
    """A server of the insights test alone, so its counts are the scripted day's and nothing
    else's, with prices for text messages to the United States and the United Kingdom."""
    data_dir = tempfile.mkdtemp(prefix="keywarden-browser-insights-")
    env = dict(SERVER_ENV, KEYWARDEN_SMS_PRICES=SMS_PRICES)
    started = Server(data_dir=data_dir, args=["--upstream", "echo"], env=env).start()
    yield started
    started.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def operators():
    """The operator of each server, once made: base URL -> (email address, session cookies)."""
    return {}


@pytest.fixture
def operator_console(open_browser, operators):
    """`operator_console(server)`: (a browser in the operator console of `server`, the operator's
    email address). The first call on a server signs the operator up, grants the role on the
    command line and turns two-factor authentication on; later ones reuse that session."""

    def open_console(on):
        page = open_browser(on, "operator")
        if on.base_url in operators:
            email, cookies = operators[on.base_url]
            page.open("/login")
            for cookie in cookies:
                page.driver.add_cookie(cookie)
        else:
            email = become_operator(page, on)
            operators[on.base_url] = (email, page.driver.get_cookies())
        page.open("/api-keys")
        page.nav("Operator console")
        assert page.path.startswith("/admin"), page.path
        assert TURN_ON_TWO_FACTOR not in words(page.text()), page.text()
        missing = [label for label in CONSOLE_NAV if not console_links(page, label)]
        assert not missing, f"the console's nav lacks {missing} on {page.url}"
        return page, email

    return open_console


def become_operator(page, on):
    """Signs up, is granted the operator role by the command line, meets the console closed for
    want of two-factor authentication, and turns it on; returns the email address."""
    email = page.sign_up(unique_email("operator"), name="Grace Hopper")
    keywarden(on, "admin", "operator", "grant", email)
    page.open("/admin")
    assert TURN_ON_TWO_FACTOR in words(page.text()), f"{page.url}: {page.heading()!r} {page.messages()}"
    turn_on_two_factor(page)
    return email


def turn_on_two_factor(page):
    """Security → Set up two-factor authentication, with a code made from the setup key."""
    page.open("/api-keys")
    page.nav("Security")
    page.click("Set up two-factor authentication")
    setup_key = page.visible("//*[@id='totp-setup-key']", "the setup key").text.replace(" ", "")
    page.fill("Authentication code", Authenticator(setup_key).code())
    page.click("Turn on")
    assert page.heading() == "Save your recovery codes", page.messages()
    page.click("Done")


# Finding and pressing things in the console.


def console_links(page, label):
    """The visible links of the operator console's nav labelled `label`."""
    return page.shown(f"//nav//a[{text_is(label)}][starts-with(@href, '/admin')]")


def console_nav(page, label):
    links = console_links(page, label)
    assert links, f"no console nav entry {label!r} on {page.url}"
    page.click(links[0])


_ASKS_FIRST = """
const button = arguments[0];
return Boolean(button.form && button.form.hasAttribute("data-confirm") && !button.hasAttribute("data-no-confirm"));
"""


def press(page, button):
    """Clicks `button`, accepting the confirmation the page's script asks first, if it asks one,
    and answering "Confirm it's you" with the password if the action wants a recent sign-in."""
    asks = page.javascript and page.driver.execute_script(_ASKS_FIRST, button)
    page.click(button, confirm=True if asks else None)
    if page.heading() == "Confirm it's you":
        page.fill("Password", PASSWORD)
        page.click("Confirm")


def button_in(container, label):
    """The visible button `label` inside `container`."""
    xpath = f".//button[{text_is(label)}] | .//input[@type='submit' and @value={literal(label)}]"
    found = [element for element in container.find_elements(By.XPATH, xpath) if element.is_displayed()]
    assert found, f"no button {label!r} in {words(container.text)!r}"
    return found[0]


def row_with(page, names, button):
    """The innermost visible element that names one of `names` and holds the button `button`: a
    row of a table or list."""
    named = " or ".join(f"contains(normalize-space(), {literal(name)})" for name in names)
    holds = f".//button[{text_is(button)}] or .//input[@type='submit' and @value={literal(button)}]"
    xpath = f"//*[{named}][{holds}][not(.//*[{named}][{holds}])]"
    return page.visible(xpath, f"row naming {names[0]!r} with a {button!r} button")


def rows_naming(page, text):
    """The visible table rows and list items that contain `text`, as words."""
    named = f"contains(normalize-space(), {literal(text)})"
    found = page.shown(f"//tr[{named}] | //li[{named}]")
    return [words(element.text) for element in found]


def audited(page, event, actor):
    """Opens the console's Audit log; the rows of `event` naming `actor`."""
    console_nav(page, "Audit log")
    assert page.path.startswith("/admin/audit-log"), page.path
    rows = rows_naming(page, event)
    return [row for row in rows if actor in row], rows


# The person's side.


_STATUSES = """
const pattern = /^(?:Status:?\\s*)?(Open|Approved|Declined)$/;
const text = (e) => e.textContent.replace(/\\s+/g, " ").trim();
const found = [];
for (const element of document.body.querySelectorAll("*")) {
  if (/^(OPTION|SELECT|SCRIPT|STYLE|BUTTON|TEXTAREA)$/.test(element.tagName)) continue;
  if (element.closest("nav, header") || !element.getClientRects().length) continue;
  const match = pattern.exec(text(element));
  if (!match || Array.from(element.children).some((child) => pattern.test(text(child)))) continue;
  found.push(match[1]);
}
return found;
"""


def request_statuses(page):
    """The statuses the Support page shows for the organization's requests: each element that says
    just Open, Approved or Declined (or "Status: ..."), innermost first."""
    return page.driver.execute_script(_STATUSES)


def session_of(server, email):
    """A session token for `email`, from `POST /v1/auth/login` with the suite's password."""
    status, _, session = server.call("POST", "/v1/auth/login", body={"email": email, "password": PASSWORD})
    assert status == 200 and "session_token" in session, session
    return session["session_token"]


def name_organization(server, email, tag):
    """Gives the person's organization a name of its own (every new one is called Personal), so
    the console can tell it apart; returns (session token, name)."""
    token = session_of(server, email)
    name = f"{tag} {uuid.uuid4().hex[:8]}"
    status, _, renamed = server.call("POST", "/v1/organization", token, {"name": name})
    assert status == 200 and renamed["name"] == name, renamed
    return token, name


def verify_by_phone(page, server):
    page.open("/settings/account/phone")
    page.select("Country").select_by_visible_text(UNITED_STATES)
    page.fill("Phone number", NUMBER)
    sent = len(server.outbox())
    page.click("Send code")
    page.fill("Verification code", server.code_sent_to(E164, after=sent))
    page.click("Verify")
    assert page.banner_link() is None, f"still unverified on {page.url}: {page.messages()}"


def create_key(page, name):
    """API keys → Create new secret key; the key the "Save your key" dialog shows once."""
    page.nav("API keys")
    assert page.heading() == "API keys"
    page.click("Create new secret key")
    page.fill("Name", name)
    page.click("Create secret key")
    assert page.has_heading("Save your key"), f"no 'Save your key' on {page.url}: {page.messages()}"
    key = page.new_key_value()
    assert KEY_FORMAT.match(key), key
    page.click("Done")
    return key


def chat(server, key):
    return server.call("POST", "/v1/chat/completions", key, CHAT)


# The tests.


def test_voip_only_person_gets_a_key_through_the_support_route(browser, server, operator_console):
    person = browser
    email = person.sign_up(unique_email("voip"))
    token, organization = name_organization(server, email, "VoIP only")

    # The only number the person has is refused for its line type, and nothing is sent.
    person.open("/settings/account/phone")
    assert person.heading() == "Phone"
    person.fill("Phone number", VOIP)
    sent = len(server.outbox())
    person.click("Send code")
    sentence = person.error_next_to("Phone number")
    assert "voip" in sentence.lower() and "mobile number" in sentence, repr(sentence)
    assert len(server.outbox()) == sent, "a code was sent to a VoIP number"

    # "Can't verify your phone?" leads to the Support page and its form.
    person.click("Can't verify your phone?")
    assert person.path == "/support", person.path
    assert person.heading() == "Support"
    assert "Can't verify your phone?" in person.text()
    reasons = [words(option.text) for option in person.select("Reason").options]
    assert all(reason in reasons for reason in REASONS), reasons
    person.select("Reason").select_by_visible_text("I only have VoIP or landline numbers")
    person.fill("Details", "My provider gives me a VoIP number only; I can receive email at this address.")
    person.click("Send request")
    assert SENT in " ".join(person.messages()), person.messages()
    assert set(request_statuses(person)) == {"Open"}, (request_statuses(person), person.text())
    assert not person.buttons("Send request"), "a second request can be sent while one is open"
    assert person.banner_link() is not None

    # An operator approves it from the support queue.
    console, operator = operator_console(server)
    console_nav(console, "Support queue")
    row = row_with(console, [email, organization], "Approve")
    decline = f".//label[{text_is('Reason for declining')}] | .//button[{text_is('Decline')}]"
    assert len(row.find_elements(By.XPATH, decline)) == 2, f"no decline form in {words(row.text)!r}"
    press(console, button_in(row, "Approve"))
    assert f"Approved: {organization} is exempt now." in " ".join(console.messages()), console.messages()

    # The person sees the answer, the banner is gone, and a key works at the gateway.
    person.open("/support")
    assert set(request_statuses(person)) == {"Approved"}, (request_statuses(person), person.text())
    assert person.banner_link() is None and BANNER not in person.text(), person.text()
    status, _, answer = server.call("GET", "/v1/organization", token)
    assert status == 200 and answer["verification"]["status"] == "exempt", answer
    key = create_key(person, "support route")
    status, _, completion = chat(server, key)
    assert status == 200, completion
    assert completion["object"] == "chat.completion"

    # The console's audit log names the operator who approved it.
    by_operator, rows = audited(console, "support_request.approved", operator)
    assert by_operator, f"no support_request.approved row naming {operator}: {rows}"


def test_suspended_organization_keys_are_refused_until_unsuspended(browser, server, operator_console):
    person = browser
    email = person.sign_up(unique_email("suspended"))
    _, organization = name_organization(server, email, "Suspend me")
    verify_by_phone(person, server)
    key = create_key(person, "suspended")
    assert chat(server, key)[0] == 200
    assert not person.shown("//*[@id='suspended-banner']")

    # The operator finds the organization and suspends it, with a reason.
    console, operator = operator_console(server)
    console_nav(console, "Organizations")
    console.fill("Search organizations", organization)
    console.click("Search")
    console.click(console.visible(f"//table//a[{text_is(organization)}]", f"the result {organization!r}"))
    assert organization in console.text()
    console.fill("Reason for suspending", "Keys leaked in a public repository")
    press(console, console.clickable("Suspend"))
    assert console.buttons("Unsuspend"), f"no 'Unsuspend' on {console.url}: {console.messages()}"

    # The members see it, and the gateway refuses the organization's keys.
    person.open("/api-keys")
    banner = person.visible("//*[@id='suspended-banner']", "the suspended banner")
    assert SUSPENDED in words(banner.text), banner.text
    # A suspended organization is not offered a key it could not make.
    assert not person.shown("//a[normalize-space()='Create new secret key']"), person.text()
    status, _, refused = chat(server, key)
    assert status == 403, refused
    assert refused["error"]["code"] == "organization_suspended", refused

    # Unsuspended, the same key works again and the banner is gone.
    press(console, console.clickable("Unsuspend"))
    assert not console.buttons("Unsuspend"), f"still suspended on {console.url}: {console.messages()}"
    status, _, completion = chat(server, key)
    assert status == 200, completion
    person.reload()
    assert not person.shown("//*[@id='suspended-banner']"), person.text()
    assert person.shown("//a[normalize-space()='Create new secret key']"), person.text()

    for event in ("organization.suspended", "organization.unsuspended"):
        by_operator, rows = audited(console, event, operator)
        assert by_operator, f"no {event} row naming {operator}: {rows}"


# The scripted day: three numbers of the United States started (two approved), one of the
# United Kingdom started, and two British numbers refused for their line type. Each start is in
# an organization of its own (a second start in one organization would cancel the first).
US_MOBILES = ["+1 201 555 0101", "+1 201 555 0102", "+1 201 555 0103"]
GB_MOBILE = "+44 7400 123456"
GB_REFUSED = [VOIP, "+44 20 7946 0018"]  # VoIP and a London landline
# Every number is sent as a person writes it, with its calling code and without `country`: the
# country counted is the number's own, for a refused number too.


def api_session(server, tag):
    email = unique_email(tag)
    status, _, signed_up = server.call("POST", "/v1/auth/signup", body={"email": email, "password": PASSWORD})
    assert status == 201, signed_up
    server.confirm_email(email)
    return session_of(server, email)


def start(server, token, number):
    return server.call("POST", "/v1/organization/phone_verifications", token, {"phone_number": number})


def count(cell):
    """The first whole number a cell says; 0 when it says none (such as "—")."""
    found = re.search(r"\d[\d,]*", cell)
    return int(found.group().replace(",", "")) if found else 0


def amount(cell):
    """The amount of money a cell says, such as $0.03."""
    found = re.findall(r"\d+(?:\.\d+)?", cell.replace(",", ""))
    assert found, f"no amount in {cell!r}"
    return decimal.Decimal(found[-1])


def insight_rows(page):
    """The rows of the table with the insights' columns, as {column: text}."""
    for table in page.tables():
        header = next((row for row in table if row and all(tag == "TH" for tag, _ in row)), None)
        if not header:
            continue
        names = [text for _, text in header]
        if all(column in names for column in INSIGHT_COLUMNS):
            return [
                {name: text for name, (_, text) in zip(names, row)}
                for row in table
                if row is not header and len(row) == len(names)
            ]
    raise AssertionError(f"no table with the columns {INSIGHT_COLUMNS} on {page.url}: {page.tables()}")


def country_row(rows, code, name):
    for row in rows:
        if re.search(rf"(?<![A-Za-z]){code}(?![A-Za-z])", row["Country"]) or name in row["Country"]:
            return row
    raise AssertionError(f"no row for {name} ({code}): {rows}")


def refusals_for(page, code):
    """The count the page gives for the refusal `code`: the first number of the shortest row that
    names it."""
    rows = rows_naming(page, code)
    assert rows, f"no row naming {code} on {page.url}"
    return count(min(rows, key=len).replace(code, " "))


def test_insights_show_the_counts_of_a_scripted_day(insights_server, operator_console):
    server = insights_server
    for index, number in enumerate(US_MOBILES):
        token = api_session(server, "insights-us")
        status, _, started = start(server, token, number)
        assert status == 201, started
        if index < 2:
            status, _, checked = server.call(
                "POST",
                f"/v1/organization/phone_verifications/{started['id']}/check",
                token,
                {"code": server.latest_code(started["id"])},
            )
            assert status == 200 and checked["status"] == "approved", checked
    token = api_session(server, "insights-gb")
    for number in GB_REFUSED:
        status, _, refused = start(server, token, number)
        assert status == 400 and refused["error"]["code"] == "phone_line_type_not_allowed", (number, refused)
    status, _, started = start(server, token, GB_MOBILE)
    assert status == 201, started

    console, _ = operator_console(server)
    console_nav(console, "Verification insights")
    assert console.path.startswith("/admin/insights"), console.path
    for window in ("24 hours", "7 days", "30 days"):
        assert console.shown(f"//a[{text_is(window)}]"), f"no link {window!r} on {console.url}"
    console.click("24 hours")
    rows = insight_rows(console)

    us = country_row(rows, "US", "United States")
    assert [count(us[column]) for column in ("Started", "Sent", "Approved", "Refused")] == [3, 3, 2, 0], us
    assert re.search(r"6[67](\.\d+)?\s?%", us["Conversion"]), us
    assert amount(us["Estimated SMS spend"]) == decimal.Decimal("0.03"), us

    gb = country_row(rows, "GB", "United Kingdom")
    assert [count(gb[column]) for column in ("Started", "Sent", "Approved", "Refused")] == [1, 1, 0, 2], gb
    assert re.search(r"(?<!\d)0(\.0+)?\s?%", gb["Conversion"]), gb
    assert amount(gb["Estimated SMS spend"]) == decimal.Decimal("0.05"), gb

    line_type = "phone_line_type_not_allowed"
    assert refusals_for(console, line_type) == 2, rows_naming(console, line_type)


def test_console_refuses_people_who_are_not_operators(browser, server):
    page = browser
    page.sign_up(unique_email("plain"))
    links = {words(link.text): link.get_attribute("href") for link in page.shown("//nav//a[@href]")}
    assert links.get("Support", "").endswith("/support"), links
    assert "Operator console" not in links, links
    page.nav("Support")
    assert page.heading() == "Support"

    for path in ("/admin", "/admin/insights", "/admin/audit-log"):
        status, _, body = send(server.base_url, "GET", path, cookies=page.cookie_header())
        assert status == 403, (path, status, body[:500])
        assert "Only operators" in body, (path, body[:2000])

    page.open("/admin")
    text = words(page.text())
    assert "Only operators" in text, text
    assert TURN_ON_TWO_FACTOR not in text, text
    assert not any(console_links(page, label) for label in CONSOLE_NAV), "the console's nav is shown to a non-operator"
