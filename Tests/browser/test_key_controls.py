"""Key controls in Chromium: a key made with an expiry and allowed address ranges on the API keys
page, refused from this machine, edited to allow it (a wrong range refused next to its field, the
typed text kept), disabled and enabled again, each change seen by the gateway on its next call.
Once with JavaScript, once without: the forms work the same."""

from keywarden_browser import UNITED_STATES, literal, unique_email, words

NUMBER = "201 555 0123"
E164 = "+12015550123"
THIRTY_DAYS = 30 * 86400


def verify_phone(page, server):
    page.open("/settings/account/phone")
    page.select("Country").select_by_visible_text(UNITED_STATES)
    page.fill("Phone number", NUMBER)
    sent = len(server.outbox())
    page.click("Send code")
    page.fill("Verification code", server.code_sent_to(E164, after=sent))
    page.click("Verify")


def row_of(page, name):
    """The text of the keys table's row whose first cell starts with `name`."""
    rows = page.shown(f"//table//tr[td[1][starts-with(normalize-space(), {literal(name)})]]")
    assert rows, f"no row for {name!r} on {page.url}: {page.tables()}"
    return words(rows[0].text)


def gateway_status(server, key):
    status, _, answer = server.call("GET", "/v1/models", token=key)
    return status, answer


def key_object(server, page, name):
    """The key named `name` as the JSON API shows it, read with the browser's own session."""
    token = page.driver.get_cookie("keywarden_session")["value"]
    status, _, projects = server.call("GET", "/v1/organization/projects", token)
    assert status == 200, projects
    project = projects["data"][0]["id"]
    status, _, keys = server.call("GET", f"/v1/organization/projects/{project}/api_keys", token)
    assert status == 200, keys
    found = [key for key in keys["data"] if key["name"] == name]
    assert found, keys
    return found[0]


def walk_the_key_controls(page, server):
    page.sign_up(unique_email("controls"))
    verify_phone(page, server)

    page.nav("API keys")
    page.click("Create new secret key")
    page.fill("Name", "office")
    page.select("Expires").select_by_visible_text("30 days")
    # A range with bits set past its prefix is refused next to the field, not widened quietly.
    page.fill("Allowed IP addresses", "10.0.0.0/8\n192.168.1.9/24")
    page.click("Create secret key")
    sentence = page.error_next_to("Allowed IP addresses")
    assert "write 192.168.1.0/24 for the whole range" in sentence, page.messages()
    assert "192.168.1.9/24" in page.field("Allowed IP addresses").get_attribute("value")
    page.fill("Allowed IP addresses", "10.0.0.0/8\n192.168.1.0/24")
    page.select("Expires").select_by_visible_text("30 days")
    page.click("Create secret key")
    assert page.has_heading("Save your key"), f"no 'Save your key' on {page.url}: {page.messages()}"
    key = page.new_key_value()

    # This machine (127.0.0.1) is outside the key's ranges; the refusal names it, not the ranges.
    status, refused = gateway_status(server, key)
    assert status == 403 and refused["error"]["code"] == "ip_not_allowed", refused
    assert "127.0.0.1" in refused["error"]["message"], refused
    assert "10.0.0.0" not in refused["error"]["message"], refused

    created = key_object(server, page, "office")
    assert created["expires_at"] - created["created_at"] == THIRTY_DAYS, created
    assert created["allowed_ips"] == ["10.0.0.0/8", "192.168.1.0/24"], created

    page.click("Done")
    assert page.heading() == "API keys"
    row = row_of(page, "office")
    assert "Stops working" in row, row
    assert "Only from 10.0.0.0/8, 192.168.1.0/24" in row, row
    assert "Active" in row, row

    page.click("Edit")
    assert page.heading() == "Edit secret key", page.heading()
    assert page.field("Allowed IP addresses").get_attribute("value") == "10.0.0.0/8\n192.168.1.0/24"
    page.fill("Name", "office and here")
    page.fill("Allowed IP addresses", "10.0.0.0/8\n300.1.1.1")
    page.click("Save changes")
    assert page.heading() == "Edit secret key", page.heading()
    assert "'300.1.1.1' is not an IP address" in page.error_next_to("Allowed IP addresses"), page.messages()
    assert page.field("Allowed IP addresses").get_attribute("value") == "10.0.0.0/8\n300.1.1.1"
    assert page.field("Name").get_attribute("value") == "office and here"
    assert gateway_status(server, key)[0] == 403, "a refused edit changed the key"

    page.fill("Allowed IP addresses", "10.0.0.0/8\n127.0.0.1")
    page.click("Save changes")
    assert page.heading() == "API keys", page.heading()
    assert "Key updated." in page.messages(), page.messages()
    assert "Only from 10.0.0.0/8, 127.0.0.1" in row_of(page, "office and here")
    status, models = gateway_status(server, key)
    assert status == 200, models

    page.click("Disable")
    assert "Key disabled." in page.messages(), page.messages()
    assert "Disabled" in row_of(page, "office and here")
    status, refused = gateway_status(server, key)
    assert status == 401 and "disabled" in refused["error"]["message"], refused
    assert key_object(server, page, "office and here")["disabled_at"] is not None

    page.click("Enable")
    assert "Key enabled." in page.messages(), page.messages()
    assert "Disabled" not in row_of(page, "office and here")
    assert gateway_status(server, key)[0] == 200
    assert key_object(server, page, "office and here")["disabled_at"] is None


def test_key_controls_with_javascript(browser, server):
    walk_the_key_controls(browser, server)


def test_key_controls_without_javascript(browser_without_javascript, server):
    walk_the_key_controls(browser_without_javascript, server)
