"""Prints the organization id, a project key and the owner's session token of a fresh, verified organization on the server
at KEYWARDEN_SDK_BASE_URL, after giving the organization a monthly budget that alerts and stops,
so every priced call passes every spend check."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "sdk"))

from keywarden_account import Account  # noqa: E402

account = Account(email="bench-priced@example.com")
status, _, answer = account.call(
    "POST", "/v1/organization/spend_limits", account.token, {"monthly_budget": 100_000_000, "hard_limit": True}
)
assert status == 200, answer
status, _, answer = account.call(
    "POST",
    f"/v1/organization/projects/{account.project}/spend_limits",
    account.token,
    {"monthly_budget": 100_000_000, "hard_limit": True},
)
assert status == 200, answer
print(account.organization, account.key(name="bench")[0], account.token)
