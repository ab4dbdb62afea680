#!/usr/bin/env python3
"""An SMTP server for Marquee's alert-delivery tests (aiosmtpd): STARTTLS
offered and required before AUTH (a throwaway CA from `trustme`, written to
--ca-out for the client to trust), one user and password, and every message
recorded as a JSON line (sender, recipients, subject, body, whether it came
over TLS and authenticated).

usage: smtp_sink.py --port P --out FILE --ca-out PEM [--user U --password W]
Prints "READY" once it listens.
"""

import argparse
import json
import signal
import ssl
import threading
from email import message_from_bytes, policy

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, path):
        self.path, self.lock = path, threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(("plain",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": message.get("subject"),
            "body": body.get_content() if body is not None else "",
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
        }
        with self.lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if mechanism not in ("PLAIN", "LOGIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login == user.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--ca-out", required=True)
    parser.add_argument("--user", default="alerts")
    parser.add_argument("--password", default="smtp-secret")
    args = parser.parse_args()
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    ca.cert_pem.write_to_path(args.ca_out)
    controller = Controller(
        Recorder(args.out), hostname="127.0.0.1", port=args.port, server_hostname="localhost",
        authenticator=authenticator(args.user, args.password), auth_required=True,
        tls_context=context, require_starttls=True, auth_require_tls=True)
    controller.start()
    print("READY", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
