"""Fixtures of the browser suite: one server per module, one headless Chromium per test, with
JavaScript (`browser`) or without it (`browser_without_javascript`).

When a test fails, the screenshot and page source of each step, the final page, the browser log
and the server log go to $BROWSER_ARTIFACTS/<test> (default /tmp/keywarden-browser-artifacts).
A Content-Security-Policy violation in the browser log fails the test that met it.
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


def _page(request, server, javascript):
    driver = chromium(javascript=javascript)
    page = Page(driver, server.base_url, javascript, server=server)
    try:
        yield page
        leftover = None
        try:
            page.check_console()
        except AssertionError as violation:
            leftover = violation
        reports = [getattr(request.node, "report_" + when, None) for when in ("setup", "call")]
        failed = any(report is not None and report.failed for report in reports)
        if failed or leftover:
            name = request.node.nodeid + ("" if javascript else "-without-javascript")
            directory = os.path.join(ARTIFACTS, re.sub(r"[^A-Za-z0-9_.-]+", "_", name))
            shutil.rmtree(directory, ignore_errors=True)
            page.save_artifacts(directory)
            with open(os.path.join(directory, "server.log"), "w") as file:
                file.write(server.log())
            print(f"screenshots, page sources and logs: {directory}")
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
