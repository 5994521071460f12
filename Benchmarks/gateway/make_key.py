"""Prints a project key of a fresh, verified organization on the server at KEYWARDEN_SDK_BASE_URL."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "sdk"))

from keywarden_account import Account  # noqa: E402

print(Account(email="bench@example.com").key(name="bench")[0])
