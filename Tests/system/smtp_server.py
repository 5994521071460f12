"""A real SMTP server for the system suite: aiosmtpd on a loopback port, recording what it is
given, and TLS certificates made here with openssl (a CA and a server certificate it signed for
localhost and 127.0.0.1)."""

import contextlib
import os
import ssl
import subprocess
import tempfile

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from keywarden_server import free_port

USERNAME = "keywarden-mailer"
PASSWORD = "smtp-password-that-must-never-be-printed"
SENDER = "Keywarden Alerts <alerts@keywarden.test>"
RECIPIENT = "person@example.com"

OPENSSL_CONFIG = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = Keywarden test CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_certificates():
    """A CA made for this run and a server certificate it signed for localhost and 127.0.0.1:
    the CA's file (for smtp_ca_file) and the server's TLS context."""
    directory = tempfile.mkdtemp(prefix="keywarden-smtp-tls-")
    with open(os.path.join(directory, "openssl.cnf"), "w") as file:
        file.write(OPENSSL_CONFIG)

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True, timeout=60)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", "-new", "-config", "openssl.cnf", "-extensions", "ca", *key,
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Keywarden test CA")
    openssl("req", "-new", "-config", "openssl.cnf", *key,
            "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "openssl.cnf", "-extensions", "server")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "server.key"))
    return {"ca": os.path.join(directory, "ca.pem"), "context": context}


class Mailbox:
    """An aiosmtpd handler that keeps what it is given: every MAIL FROM, every AUTH attempt, and
    each message with whether it came inside TLS and after AUTH."""

    def __init__(self):
        self.senders = []
        self.logins = []
        self.messages = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.senders.append(address)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            {
                "helo": session.host_name,
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "content": envelope.original_content or envelope.content,
                "tls": server.transport.get_extra_info("ssl_object") is not None,
                "authenticated": session.authenticated,
            }
        )
        return "250 2.0.0 queued"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        accepted = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == USERNAME.encode()
            and auth_data.password == PASSWORD.encode()
        )
        self.logins.append((mechanism, accepted))
        return AuthResult(success=accepted, handled=False)


@contextlib.contextmanager
def smtp_server(handler, **options):
    """An aiosmtpd server on a free loopback port for the duration of the block; yields the port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
