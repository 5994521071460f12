"""Every POST needs the form token bound to its session and this site's Origin: a request the
browser's cookies alone would authenticate is refused without them, and changes nothing."""

from keywarden_browser import PASSWORD, UNITED_STATES, send, unique_email

E164 = "+12015550123"


def test_logging_out_without_the_form_token_is_refused_and_the_session_stays(browser, server):
    browser.sign_up(unique_email("csrf"))
    cookies = browser.cookie_header()
    status, _, _ = send(server.base_url, "POST", "/logout", {}, cookies, origin=server.base_url)
    assert status == 403
    status, headers, _ = send(server.base_url, "GET", "/", cookies=cookies)
    assert (status, headers["Location"]) == (303, "/api-keys"), "the refused log-out ended the session"


def test_the_form_token_is_refused_from_another_site_and_accepted_from_this_one(browser, server):
    browser.sign_up(unique_email("origin"))
    browser.open("/settings/account/phone")
    cookies = browser.cookie_header()
    action, fields = browser.form_of("Log out")
    assert action == "/logout" and any(name == "csrf_token" for name, _ in fields), fields
    for origin in ("http://attacker.example", None):
        status, _, _ = send(server.base_url, "POST", action, fields, cookies, origin=origin)
        assert status == 403, origin
    status, headers, _ = send(server.base_url, "GET", "/", cookies=cookies)
    assert (status, headers["Location"]) == (303, "/api-keys")
    # With its token and this site's Origin the same request logs out: the refusals were for them.
    status, headers, _ = send(server.base_url, "POST", action, fields, cookies, origin=server.base_url)
    assert (status, headers["Location"]) == (303, "/login")
    status, headers, _ = send(server.base_url, "GET", "/", cookies=cookies)
    assert (status, headers["Location"]) == (303, "/login")


def test_logging_in_without_the_form_token_is_refused(browser, server):
    email = unique_email("login")
    status, _, body = server.call("POST", "/v1/auth/signup", body={"email": email, "password": PASSWORD})
    assert status == 201, body
    browser.open("/login")
    browser.fill("Email address", email)
    browser.fill("Password", PASSWORD)
    action, fields = browser.form_of("Log in")
    cookies = browser.cookie_header()
    without = [(name, value) for name, value in fields if name != "csrf_token"]
    assert len(without) == len(fields) - 1, fields
    status, headers, _ = send(server.base_url, "POST", action, without, cookies, origin=server.base_url)
    assert status == 403
    assert "keywarden_session" not in (headers.get("Set-Cookie") or "")
    status, headers, _ = send(server.base_url, "POST", action, fields, cookies, origin=server.base_url)
    assert status == 303 and "keywarden_session=sess_" in headers.get("Set-Cookie", "")


def test_sending_a_code_without_the_form_token_is_refused_and_sends_nothing(browser, server):
    browser.sign_up(unique_email("phone-csrf"))
    browser.open("/settings/account/phone")
    browser.select("Country").select_by_visible_text(UNITED_STATES)
    browser.fill("Phone number", "201 555 0123")
    action, fields = browser.form_of("Send code")
    cookies = browser.cookie_header()
    without = [(name, value) for name, value in fields if name != "csrf_token"]
    assert len(without) == len(fields) - 1, fields
    sent = len(server.outbox())
    status, _, _ = send(server.base_url, "POST", action, without, cookies, origin=server.base_url)
    assert status == 403
    assert len(server.outbox()) == sent, "a code was sent for a form without its token"
    browser.reload()
    assert browser.banner_link() is not None
    # The same form with its token sends the code: the refusal was for the token alone.
    status, _, _ = send(server.base_url, "POST", action, fields, cookies, origin=server.base_url)
    assert status in (200, 303), status
    server.code_sent_to(E164, after=sent)
