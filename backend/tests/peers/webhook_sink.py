#!/usr/bin/env python3
"""A webhook receiver for Marquee's alert-delivery tests: records every POST
(path, headers, body) as a JSON line, with whether its Standard Webhooks
signature verifies, checked by the `standardwebhooks` package (an
implementation independent of Marquee's). Answers each request with the next
status of --statuses (the last one repeats), with Retry-After when given.

usage: webhook_sink.py --port P --out FILE [--secret whsec_...]
                       [--statuses 500,200] [--retry-after 2]
Prints "READY" once it listens.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--secret")
    parser.add_argument("--statuses", default="200")
    parser.add_argument("--retry-after")
    args = parser.parse_args()
    statuses = [int(s) for s in args.statuses.split(",")]
    lock = threading.Lock()
    served = [0]
    verifier = Webhook(args.secret) if args.secret else None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = None
            if verifier is not None:
                try:
                    verifier.verify(body, headers)
                    verified = True
                except WebhookVerificationError as error:
                    verified = str(error)
            with lock:
                status = statuses[min(served[0], len(statuses) - 1)]
                served[0] += 1
                with open(args.out, "a", encoding="utf-8") as out:
                    out.write(json.dumps({
                        "at": time.time(), "path": self.path, "headers": headers,
                        "body": body.decode("utf-8", "replace"), "verified": verified, "status": status,
                    }) + "\n")
            self.send_response(status)
            if status != 200 and args.retry_after:
                self.send_header("Retry-After", args.retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("READY", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
