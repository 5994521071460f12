"""Fixtures of the browser suite: one server per module, one headless Chromium per test, with
JavaScript (`browser`) or without it (`browser_without_javascript`), and `open_browser` for the
further browsers a test needs (a second person, or a browser on a server of its own).

When a test fails, the screenshot and page source of each step, the final page, the browser log
and the server log go to $BROWSER_ARTIFACTS/<test> (default /tmp/keywarden-browser-artifacts),
one directory per browser; with BROWSER_KEEP_ARTIFACTS set, they are kept for passing tests too
(to look the pages over). A Content-Security-Policy violation in the browser log fails the test
that met it.
"""

import os
import re
import shutil

import pytest

from keywarden_browser import Page, chromium, start_server

ARTIFACTS = os.environ.get("BROWSER_ARTIFACTS", "/tmp/keywarden-browser-artifacts")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, "report_" + report.when, report)
    return report


@pytest.fixture(scope="module")
def server():
    server = start_server()
    yield server
    server.stop()
    shutil.rmtree(server.data_dir, ignore_errors=True)


def _keep_record(request, page, server, suffix):
    """Reads `page`'s browser log once more; when the test failed or the log holds a
    Content-Security-Policy violation, writes the page's steps, its browser log and `server`'s log
    to $BROWSER_ARTIFACTS/<test><suffix>. Returns the violation, if there is one."""
    leftover = None
    try:
        page.check_console()
    except AssertionError as violation:
        leftover = violation
    reports = [getattr(request.node, "report_" + when, None) for when in ("setup", "call")]
    failed = any(report is not None and report.failed for report in reports)
    if failed or leftover or os.environ.get("BROWSER_KEEP_ARTIFACTS"):
        name = request.node.nodeid + suffix
        directory = os.path.join(ARTIFACTS, re.sub(r"[^A-Za-z0-9_.-]+", "_", name))
        shutil.rmtree(directory, ignore_errors=True)
        page.save_artifacts(directory)
        with open(os.path.join(directory, "server.log"), "w") as file:
            file.write(server.log())
        print(f"screenshots, page sources and logs: {directory}")
    return leftover


def _page(request, server, javascript):
    driver = chromium(javascript=javascript)
    page = Page(driver, server.base_url, javascript, server=server)
    try:
        yield page
        leftover = _keep_record(request, page, server, "" if javascript else "-without-javascript")
        if leftover:
            pytest.fail(str(leftover))
    finally:
        driver.quit()


@pytest.fixture
def browser(request, server):
    yield from _page(request, server, javascript=True)


@pytest.fixture
def browser_without_javascript(request, server):
    yield from _page(request, server, javascript=False)


@pytest.fixture
def open_browser(request):
    """`open_browser(server, name, javascript=True)`: one more headless Chromium on `server` (any
    server, not only the module's), as a `Page`. Each is checked and recorded like `browser`, under
    $BROWSER_ARTIFACTS/<test>-<name>, and closed at the end of the test."""
    opened = []

    def open_one(on, name, javascript=True):
        driver = chromium(javascript=javascript)
        page = Page(driver, on.base_url, javascript, server=on)
        opened.append((page, on, name))
        return page

    yield open_one
    problems = []
    for page, on, name in opened:
        try:
            leftover = _keep_record(request, page, on, "-" + name)
            if leftover:
                problems.append(f"{name}: {leftover}")
        except Exception as error:  # a browser that died: the others are still recorded and closed
            problems.append(f"{name}: no record kept: {error}")
        finally:
            page.driver.quit()
    if problems:
        pytest.fail("; ".join(problems))
