"""The command line run in the wrong place, or with bad values, says so and changes nothing."""

import os
import subprocess
import tempfile

from keywarden_server import BINARY


def run(*args, cwd):
    finished = subprocess.run(
        [BINARY, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    return finished.returncode, finished.stdout + finished.stderr


def test_read_and_admin_commands_outside_the_data_directory_say_where_they_looked_and_create_nothing():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    for args in (
        ["keys", "list", "--project", "proj_x"],
        ["keys", "revoke", "key_x"],
        ["admin", "org", "show", "org_x"],
        ["admin", "org", "set-tier", "org_x", "default"],
    ):
        code, output = run(*args, cwd=empty)
        assert code != 0, (args, output)
        assert "no Keywarden database at " + os.path.realpath(empty) + "/.keywarden/keywarden.sqlite" in output, (
            args,
            output,
        )
        assert "USAGE" not in output and "Usage:" not in output, output
        assert not os.path.exists(os.path.join(empty, ".keywarden")), args


def test_outbox_outside_the_data_directory_names_the_file_it_looked_for():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    code, output = run("outbox", cwd=empty)
    assert code == 0
    assert os.path.realpath(empty) + "/.keywarden/outbox.jsonl" in output
    assert not os.path.exists(os.path.join(empty, ".keywarden"))


def test_outbox_count_must_be_positive():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    for count in ("0", "-1", "1001"):
        code, output = run("outbox", "--count", count, cwd=empty)
        assert code != 0, (count, output)
        assert "--count" in output


def test_a_bad_setting_is_one_line_naming_it():
    empty = tempfile.mkdtemp(prefix="keywarden-cli-")
    code, output = run("keys", "list", "--project", "proj_x", "--data-dir", empty, "--log-level", "loud", cwd=empty)
    assert code != 0
    assert "log_level" in output
    assert len(output.strip().splitlines()) == 1, output
