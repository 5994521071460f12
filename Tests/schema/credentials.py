"""Prints shell exports of the credentials schemathesis runs with, made on a running server:
a verified organization's session token, a session of another account for logging out, an admin
key, and a project key of that other organization. Usage: credentials.py BASE_URL DATA_DIR"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "system"))

from keywarden_server import Server  # noqa: E402


def main():
    base_url, data_dir = sys.argv[1], sys.argv[2]
    server = Server(data_dir=data_dir, port=int(base_url.rsplit(":", 1)[1]))
    token, project = server.verified_account("schema@example.com")
    # The gateway's key belongs to another organization, out of reach of the requests made
    # with the session token (which may revoke every key they can list).
    other_token, other_project = server.verified_account("gateway@example.com")
    key = server.key(other_token, other_project)
    status, _, admin = server.call("POST", "/v1/organization/admin_api_keys", token, {"name": "schema"})
    assert status == 201, admin
    # Logging out gets a session of the other account: the schema account's requests may end any
    # of its own other sessions (DELETE /v1/me/sessions/{session_id}), never another person's.
    status, _, other = server.call(
        "POST", "/v1/auth/login", body={"email": "gateway@example.com", "password": "correct horse battery"}
    )
    assert status == 200, other
    print(f"export KW_SESSION={token}")
    print(f"export KW_LOGOUT_SESSION={other['session_token']}")
    print(f"export KW_ADMIN_KEY={admin['value']}")
    print(f"export KW_PROJECT_KEY={key}")
    print(f"export KW_PROJECT={project}")


if __name__ == "__main__":
    main()
