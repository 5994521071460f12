"""Members and invites across two browser sessions: the owner invites by email, the invitee opens
the emailed link (read from the server's <data-dir>/email-outbox.jsonl), signs up from it and
joins; the owner makes them an owner, then removes them, and the organization is gone from the
removed person's next page."""

import json
import os
import re
import time
import urllib.parse

from selenium.webdriver.common.by import By

from keywarden_browser import PASSWORD, Page, chromium, literal, unique_email

INVITE_LINK = re.compile(r"https?://\S+?(/invite\?token=[A-Za-z0-9_%-]+)")


def invite_path(server, email, timeout=10):
    """The path and query of the latest invite link emailed to `email`."""
    outbox = os.path.join(server.data_dir, "email-outbox.jsonl")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(outbox):
            with open(outbox) as file:
                messages = [json.loads(line) for line in file if line.strip()]
            for message in reversed(messages):
                if message.get("to") == email:
                    found = INVITE_LINK.search(message.get("text", ""))
                    assert found, f"the email to {email} holds no invite link: {message.get('text')!r}"
                    return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no email to {email} in {outbox}")


def row_of(page, email):
    """The members table row of `email`."""
    return page.visible(f"//table[contains(@class, 'members')]//tr[td[normalize-space()={literal(email)}]]", email)


def organization_choices(page):
    """The ids the header's organization switcher offers."""
    return [
        option.get_attribute("value")
        for option in page.driver.find_elements(By.XPATH, "//select[@id='switch-organization']/option")
    ]


def test_an_invitee_joins_from_the_emailed_link_and_loses_the_organization_when_removed(browser, server):
    owner = browser
    owner.sign_up(unique_email("owner"))
    owner.nav("General")
    organization = owner.driver.find_element(By.ID, "organization-id").text.strip()
    assert organization.startswith("org_")

    owner.nav("Members")
    assert owner.heading() == "Members"
    invitee_email = unique_email("invitee")
    owner.fill("Email address", invitee_email)
    owner.select("Role in the organization").select_by_value("reader")
    owner.select("Default project").select_by_visible_text("Member")
    owner.click("Send invite")
    assert "Invite sent." in owner.messages(), owner.messages()
    assert invitee_email in owner.text()

    path = invite_path(server, invitee_email)
    invitee = Page(chromium(javascript=True), server.base_url, True)
    try:
        invitee.open(path)
        assert invitee.heading() == "Invite"
        assert "Personal" in invitee.text()
        invitee.click("Sign up")
        assert urllib.parse.urlsplit(invitee.url).path == "/signup", invitee.url
        invitee.fill("Email address", invitee_email)
        invitee.fill("Password", PASSWORD)
        invitee.fill("Name", "Grace Hopper")
        invitee.click("Sign up")
        assert urllib.parse.urlsplit(invitee.url).path == "/invite", invitee.url
        invitee.click("Join Personal")
        assert invitee.path == "/api-keys"
        assert "You joined Personal." in invitee.messages(), invitee.messages()
        assert organization in organization_choices(invitee)

        # The owner makes the new member an owner, then removes them.
        owner.nav("Members")
        row = row_of(owner, invitee_email)
        assert "Reader" in row.text
        select = row.find_element(By.XPATH, ".//select[@name='role']")
        select.find_element(By.XPATH, "./option[@value='owner']").click()
        owner.click(row.find_element(By.XPATH, ".//button[normalize-space()='Save']"))
        assert "Role saved." in owner.messages(), owner.messages()
        assert "Owner" in row_of(owner, invitee_email).text
        remove = row_of(owner, invitee_email).find_element(By.XPATH, ".//button[normalize-space()='Remove']")
        owner.click(remove, confirm=True)
        assert "Member removed." in owner.messages(), owner.messages()
        assert invitee_email not in owner.text()

        # The removed person's next page no longer offers the organization.
        invitee.open("/api-keys")
        assert invitee.path == "/api-keys"
        assert organization not in organization_choices(invitee)
    finally:
        invitee.driver.quit()


def test_an_invite_opened_in_another_account_says_so_and_offers_no_join(browser_without_javascript, server):
    owner = browser_without_javascript
    owner.sign_up(unique_email("owner"))
    owner.nav("Members")
    invited = unique_email("invited")
    owner.fill("Email address", invited)
    owner.click("Send invite")
    path = invite_path(server, invited)

    stranger = Page(chromium(javascript=False), server.base_url, False)
    try:
        stranger.sign_up(unique_email("stranger"))
        stranger.open(path)
        assert "This invite was sent to another email address; sign in with that address." in stranger.messages()
        assert invited not in stranger.text()
        assert not stranger.buttons("Join Personal")
    finally:
        stranger.driver.quit()
