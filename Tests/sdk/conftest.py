"""Fixtures for the SDK suite. run.sh starts the server and sets KEYWARDEN_SDK_BASE_URL."""

import pytest

from keywarden_account import BASE_URL, Account


@pytest.fixture(scope="session")
def account():
    return Account()


@pytest.fixture(scope="session")
def base_url():
    return BASE_URL + "/v1"
