"""What the browser suite drives: headless Chromium under Selenium (Debian's chromium and
chromium-driver), Keywarden servers started by the system suite's `Server`
(Tests/system/keywarden_server.py), the `keywarden` command line on a server's database, and
`Page`, which finds things the way a person does: by label, button, link and heading text, the
labels DESIGN §9 names.

Every navigation waits for the page it leads to, checks the browser log for a
Content-Security-Policy violation and keeps a screenshot and the page source, which conftest.py
writes out when a test fails.
"""

import datetime
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "system"))
from keywarden_server import BINARY, Server  # noqa: E402

CHROMIUM = os.environ.get("KEYWARDEN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KEYWARDEN_CHROMEDRIVER", "/usr/bin/chromedriver")

KEY_FORMAT = re.compile(r"^sk-proj-[A-Za-z0-9_-]{20,}$")
BANNER = "Verify a phone number to create API keys"
PASSWORD = "correct horse battery staple"
UNITED_STATES = "United States (+1)"

# The server of a test module. Every test signs up an organization of its own from 127.0.0.1,
# and several send codes to the same test numbers, so the per-address sign-up limit, the
# per-number, per-organization and per-address send caps and the organizations-per-number limit
# are roomy here; the resend cooldown and every refusal of a number keep their defaults.
SERVER_ENV = {
    "KEYWARDEN_BCRYPT_COST": "4",
    "KEYWARDEN_SIGNUPS_PER_ADDRESS_PER_HOUR": "1000",
    "KEYWARDEN_MAX_ORGANIZATIONS_PER_PHONE": "1000",
    "KEYWARDEN_SMS_SENDS_PER_NUMBER_PER_10_MINUTES": "1000",
    "KEYWARDEN_SMS_SENDS_PER_NUMBER_PER_DAY": "1000",
    "KEYWARDEN_SMS_SENDS_PER_ORGANIZATION_PER_DAY": "1000",
    "KEYWARDEN_SMS_SENDS_PER_ADDRESS_PER_HOUR": "1000",
}


def start_server():
    """A `keywarden serve --upstream echo` on a free port with a fresh data directory, ready."""
    data_dir = tempfile.mkdtemp(prefix="keywarden-browser-")
    return Server(data_dir=data_dir, args=["--upstream", "echo"], env=SERVER_ENV).start()


def keywarden(server, *args):
    """Runs `keywarden ARGS --data-dir DIR` on `server`'s database with the server's settings, as
    an operator does next to a running server (`admin operator grant EMAIL`, `admin org set-tier
    ORG TIER`); returns what it printed, failing the test when it exits with an error."""
    finished = subprocess.run(
        [BINARY, *args, "--data-dir", server.data_dir],
        env=server.env, capture_output=True, text=True, timeout=60,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, f"keywarden {' '.join(args)} exited with {finished.returncode}: {output}"
    return output


def chromium(javascript=True, width=1280, height=900):
    """A headless Chromium whose browser log (console and CSP reports) is collected."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    preferences = {
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
        "profile.password_manager_leak_detection": False,
    }
    if not javascript:
        preferences["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", preferences)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER, log_output=subprocess.DEVNULL))
    driver.set_page_load_timeout(30)
    return driver


def unique_email(tag="person"):
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def literal(text):
    """`text` as an XPath string literal."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in text.split("'")) + ")"


def text_is(text, starts_with=False):
    """An XPath test that an element's text is `text` (or starts with it)."""
    if starts_with:
        return f"starts-with(normalize-space(), {literal(text)})"
    return f"normalize-space()={literal(text)}"


def is_csp_violation(message):
    return any(mark in message for mark in ("Refused to", "Content Security Policy", "Content-Security-Policy"))


def words(text):
    return " ".join(text.split())


# Runs in the page through the driver (which works with the page's JavaScript turned off too):
# the sentence shown for a field, from its aria-describedby or the first error-looking element
# after it (before the next field), or inside the element that wraps it.
_ERROR_NEXT_TO = """
const field = arguments[0];
const looksLikeError = (e) =>
  e && (/error|invalid|alert/i.test(e.className || "") || e.getAttribute("role") === "alert");
const shown = (e) => e && e.getClientRects().length > 0 && e.textContent.trim() !== "";
const text = (e) => e.textContent.replace(/\\s+/g, " ").trim();
for (const id of (field.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean)) {
  const e = document.getElementById(id);
  if (looksLikeError(e) && shown(e)) return text(e);
}
const isField = (e) => /^(LABEL|INPUT|SELECT|TEXTAREA|BUTTON|FIELDSET)$/.test(e.tagName)
  || e.querySelector("label, input:not([type=hidden]), select, textarea");
for (let start = field; start && start.tagName !== "FORM" && start !== document.body; start = start.parentElement) {
  for (let e = start.nextElementSibling; e; e = e.nextElementSibling) {
    if (looksLikeError(e) && shown(e)) return text(e);
    const inner = e.querySelector ? e.querySelector(".field-error, .error, [role=alert]") : null;
    if (inner && shown(inner) && !isField(e)) return text(inner);
    if (isField(e)) break;
  }
  if (start !== field && start.querySelectorAll("input:not([type=hidden]), select, textarea").length > 1) break;
}
return "";
"""

_TABLES = """
return Array.from(document.querySelectorAll("table")).map((table) =>
  Array.from(table.rows).map((row) => Array.from(row.cells).map((cell) =>
    [cell.tagName, cell.textContent.replace(/\\s+/g, " ").trim()])));
"""

_FORM_OF = """
const button = arguments[0];
const form = button.form;
if (!form) return null;
const pairs = [];
for (const element of form.elements) {
  if (!element.name || element.disabled) continue;
  if (/^(submit|button|image|reset)$/.test(element.type)) continue;
  if ((element.type === "checkbox" || element.type === "radio") && !element.checked) continue;
  pairs.push([element.name, element.value]);
}
if (button.name) pairs.push([button.name, button.value]);
return [form.getAttribute("action") || location.pathname, pairs];
"""


class Page:
    """One browser on one server."""

    def __init__(self, driver, base_url, javascript, server=None):
        self.driver = driver
        self.base_url = base_url
        self.javascript = javascript
        self.server = server  # the `Server`, whose email outbox holds the links sign-up mails
        self.steps = []  # (what was done, URL, screenshot PNG, page source), the latest 40
        self.console = []  # every browser log entry, with the URL it was read on

    # Going places.

    @property
    def url(self):
        return self.driver.current_url

    @property
    def path(self):
        parts = urllib.parse.urlsplit(self.driver.current_url)
        return parts.path + ("?" + parts.query if parts.query else "")

    def open(self, path):
        self.driver.get(self.base_url + path)
        self.settled("open " + path)

    def reload(self):
        self.driver.refresh()
        self.settled("reload")

    def click(self, target, confirm=None, starts_with=False):
        """Clicks `target` (the text of a visible button, submit input or link, or an element) and
        waits for the page it leads to. With `confirm` True or False, the confirmation dialog the
        click opens is accepted or dismissed."""
        element = self.clickable(target, starts_with) if isinstance(target, str) else target
        what = target if isinstance(target, str) else words(element.text) or element.tag_name
        navigates = self._navigates(element)
        before = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        if confirm is not None:
            try:
                dialog = WebDriverWait(self.driver, 5).until(expected_conditions.alert_is_present())
            except TimeoutException:
                raise AssertionError(f"{what!r} asked for no confirmation on {self.url}") from None
            dialog.accept() if confirm else dialog.dismiss()
            navigates = navigates and confirm
        if navigates:
            try:
                WebDriverWait(self.driver, 15).until(lambda _: self._replaced(before))
            except TimeoutException:
                invalid = self.driver.execute_script(
                    "return Array.from(document.querySelectorAll(':invalid'))"
                    ".filter((e) => e.tagName !== 'FORM').map((e) => (e.name || e.id) + ': ' + e.validationMessage)"
                )
                raise AssertionError(f"{what!r} on {self.url} led nowhere; invalid fields: {invalid}") from None
        self.settled(f"click {what}")

    def _navigates(self, element):
        """Whether clicking `element` loads a page: a link elsewhere, or a button that submits a form."""
        tag = element.tag_name.lower()
        if tag == "a":
            href = element.get_attribute("href") or ""
            if not href or href.startswith("javascript:"):
                return False
            target, fragment = urllib.parse.urldefrag(href)
            return not (fragment and target == urllib.parse.urldefrag(self.url)[0])
        if tag in ("button", "input"):
            return (element.get_attribute("type") or "submit").lower() in ("submit", "image") and (
                element.get_property("form") is not None
            )
        return False

    @staticmethod
    def _replaced(element):
        """Whether `element`'s document is gone. While a page is being replaced, Chromium may
        answer for an element of the old one with an inspector error instead of 'stale'."""
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error) or "No node with given id" in str(error):
                return True
            return False

    def nav(self, label):
        """Follows the main or settings nav entry `label`."""
        link = self.visible(f"//nav//a[normalize-space()={literal(label)}]", f"nav entry {label!r}")
        self.click(link)

    def sign_up(self, email=None, name="Ada Lovelace", password=PASSWORD, confirm=None):
        """Signs up through the pages; then opens the confirmation link mailed to the address (from
        the server's email outbox) and confirms it, as the person would: with `confirm` True, or by
        default when the page was made with its server. `confirm=False` leaves it unconfirmed."""
        email = email or unique_email()
        self.open("/signup")
        self.fill("Email address", email)
        self.fill("Password", password)
        self.fill("Name", name)
        self.click("Sign up")
        assert not self.path.startswith("/signup"), f"sign-up refused: {self.messages()}"
        if confirm or (confirm is None and self.server is not None):
            self.confirm_email(email)
        return email

    def confirm_email(self, email):
        """Opens the newest confirmation link mailed to `email` and presses its button."""
        assert self.server is not None, "this page was made without its server"
        token = self.server.link_token(email, "/confirm-email")
        self.open("/confirm-email?token=" + token)
        self.click("Confirm email address")
        assert "Your email address is confirmed." in " ".join(self.messages()), self.messages()

    def log_in(self, email, password=PASSWORD):
        self.fill("Email address", email)
        self.fill("Password", password)
        self.click("Log in")

    # Finding things.

    def visible(self, xpath, what, timeout=5):
        """The first displayed element matching `xpath`, waiting up to `timeout` seconds."""

        def first_shown(driver):
            for element in driver.find_elements(By.XPATH, xpath):
                try:
                    if element.is_displayed():
                        return element
                except WebDriverException:  # stale, or replaced while being looked at
                    pass
            return False

        try:
            return WebDriverWait(self.driver, timeout).until(first_shown)
        except TimeoutException:
            raise AssertionError(f"no visible {what} on {self.url} (heading {self.heading()!r})") from None

    def shown(self, xpath):
        """Every displayed element matching `xpath`, now."""
        found = []
        for element in self.driver.find_elements(By.XPATH, xpath):
            try:
                if element.is_displayed():
                    found.append(element)
            except WebDriverException:
                pass
        return found

    def clickable(self, text, starts_with=False):
        match = text_is(text, starts_with)
        value = f"starts-with(@value, {literal(text)})" if starts_with else f"@value={literal(text)}"
        xpath = (
            f"//button[{match}] | //a[{match}] | //summary[{match}]"
            f" | //input[(@type='submit' or @type='button') and {value}]"
        )
        return self.visible(xpath, f"button or link {text!r}")

    def buttons(self, text, starts_with=False):
        match = text_is(text, starts_with)
        return self.shown(f"//button[{match}] | //input[@type='submit' and @value={literal(text)}]")

    def field(self, label):
        """The input, select or text area the visible label `label` names."""
        element = self.visible(f"//label[normalize-space()={literal(label)}]", f"label {label!r}")
        target = element.get_attribute("for")
        if target:
            fields = self.driver.find_elements(By.ID, target)
            assert fields, f"label {label!r} is for #{target}, which is not on {self.url}"
            return fields[0]
        inner = element.find_elements(By.XPATH, ".//input | .//select | .//textarea")
        assert inner, f"label {label!r} names no field on {self.url}"
        return inner[0]

    def fill(self, label, value):
        field = self.field(label)
        field.clear()
        field.send_keys(value)

    def select(self, label):
        return Select(self.field(label))

    def heading(self):
        """The text of the first visible h1, or ''."""
        try:
            for element in self.driver.find_elements(By.TAG_NAME, "h1"):
                if element.is_displayed():
                    return words(element.text)
        except WebDriverException:
            pass
        return ""

    def has_heading(self, text):
        return bool(self.shown(f"//*[self::h1 or self::h2 or self::h3][normalize-space()={literal(text)}]"))

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def banner_link(self):
        """The visible link of the unverified banner, or None when there is no banner."""
        text = literal(BANNER)
        holders = self.shown(
            f"//body//*[contains(normalize-space(), {text})][not(*[contains(normalize-space(), {text})])]"
        )
        for holder in holders:
            links = holder.find_elements(
                By.XPATH, "ancestor-or-self::a[@href] | .//a[@href] | ../a[contains(@href, '/settings/account/phone')]"
            )
            if links:
                return links[0]
        assert not holders, f"the banner {BANNER!r} on {self.url} links nowhere"
        return None

    def error_next_to(self, label):
        """The sentence shown next to the field labelled `label` ('' when there is none)."""
        return self.driver.execute_script(_ERROR_NEXT_TO, self.field(label))

    def messages(self):
        """The visible alerts, errors, flash and status messages of the page."""
        found = self.shown(
            "//*[@role='alert' or @role='status' or contains(@class, 'error') or contains(@class, 'flash')]"
        )
        return [words(element.text) for element in found if element.text.strip()]

    def new_key_value(self):
        element = self.visible("//*[@id='new-key-value']", "#new-key-value")
        return (element.text or element.get_attribute("value") or "").strip()

    def tables(self):
        """Every table as rows of (tag, text) cells."""
        return self.driver.execute_script(_TABLES)

    def requests_on(self, day):
        """The requests the usage table reports for `day` (a date), summed over its rows for that
        day; None when no row is for that day. The day may be written 2026-01-31, Jan 31, 2026,
        31 Jan 2026, January 31, 2026 or Jan 31."""
        spellings = {
            day.isoformat(),
            f"{day:%b} {day.day}, {day.year}",
            f"{day:%B} {day.day}, {day.year}",
            f"{day.day} {day:%b} {day.year}",
            f"{day.day} {day:%B} {day.year}",
            f"{day:%b} {day.day}",
            f"{day.day} {day:%b}",
        }
        patterns = [re.compile(r"(?<![\w-])" + re.escape(s) + r"(?![\w-])") for s in spellings]
        total = None
        for table in self.tables():
            header = next((row for row in table if row and all(tag == "TH" for tag, _ in row)), None)
            if not header:
                continue
            column = next((i for i, (_, text) in enumerate(header) if "request" in text.lower()), None)
            if column is None:
                continue
            for row in table:
                if row is header or len(row) <= column:
                    continue
                if any(pattern.search(row[0][1]) for pattern in patterns):
                    digits = re.sub(r"[^\d]", "", row[column][1])
                    total = (total or 0) + int(digits or 0)
        return total

    def form_of(self, button_text):
        """(action path, fields) of the form the button `button_text` submits, as the browser would
        send it."""
        found = self.driver.execute_script(_FORM_OF, self.clickable(button_text))
        assert found, f"{button_text!r} on {self.url} submits no form"
        return found[0], [tuple(pair) for pair in found[1]]

    def cookie_header(self):
        return "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())

    # The record of what happened.

    def settled(self, what):
        WebDriverWait(self.driver, 15).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
        )
        self.snapshot(what)
        self.check_console()

    def snapshot(self, what):
        try:
            self.steps.append((what, self.url, self.driver.get_screenshot_as_png(), self.driver.page_source))
        except WebDriverException:
            return
        del self.steps[:-40]

    def check_console(self):
        """Reads the browser log; fails on a Content-Security-Policy violation."""
        entries = self.driver.get_log("browser")
        url = self.url
        for entry in entries:
            entry["read_on"] = url
        self.console.extend(entries)
        violations = [entry["message"] for entry in entries if is_csp_violation(entry.get("message", ""))]
        assert not violations, f"Content-Security-Policy violation on {url}: {violations}"

    def save_artifacts(self, directory):
        os.makedirs(directory, exist_ok=True)
        for number, (what, url, png, source) in enumerate(self.steps, 1):
            stem = f"{number:02d}-" + (re.sub(r"[^A-Za-z0-9]+", "-", what).strip("-")[:60] or "step")
            with open(os.path.join(directory, stem + ".png"), "wb") as file:
                file.write(png)
            with open(os.path.join(directory, stem + ".html"), "w") as file:
                file.write(f"<!-- {url} -->\n{source}")
        try:
            self.driver.save_screenshot(os.path.join(directory, "final.png"))
            with open(os.path.join(directory, "final.html"), "w") as file:
                file.write(f"<!-- {self.url} -->\n{self.driver.page_source}")
        except WebDriverException as error:
            with open(os.path.join(directory, "final.txt"), "w") as file:
                file.write(f"no final screenshot: {error}\n")
        with open(os.path.join(directory, "console.log"), "w") as file:
            for entry in self.console:
                file.write(f"{entry.get('level')} {entry.get('source')} {entry['read_on']}: {entry.get('message')}\n")


def today_utc():
    return datetime.datetime.now(datetime.timezone.utc).date()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def send(base_url, method, path, fields=None, cookies="", origin=None):
    """One form request outside the browser, redirects not followed; returns (status, headers,
    body text)."""
    data = None if fields is None else urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(base_url + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if cookies:
        request.add_header("Cookie", cookies)
    if origin:
        request.add_header("Origin", origin)
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")
