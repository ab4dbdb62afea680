"""Checks the API's contract against a running marquee.

1. `GET /api/v1/openapi.json` is a valid OpenAPI 3.1 document
   (openapi-spec-validator), and `GET /api/v1/ws-schema.json` a valid JSON
   Schema 2020-12 (jsonschema) that the server's own WebSocket frames
   conform to (the first 200 a new client gets: it gets every channel).
2. schemathesis, a property-based API fuzzer driven by the document, runs
   every operation twice, with and without the operator token: no answer is
   a 5xx, and every answer's status, content type and body are the ones the
   document gives.

usage: check-openapi.py MARQUEE_BINARY SCHEMATHESIS
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import jsonschema
import websockets
from openapi_spec_validator import validate

TOKEN = "openapi-check-token"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


async def frames(ws_url, count):
    got = []
    async with websockets.connect(ws_url, max_size=16 * 1024 * 1024) as ws:
        while len(got) < count:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
    return got


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    binary, schemathesis = sys.argv[1:3]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MARQUEE_", "ALPHAVANTAGE_"))}
        env["MARQUEE_OPERATOR_TOKEN"] = TOKEN
        server = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--static-dir", data,
             "--symbols", "AAPL,MSFT,NVDA,GOOGL,AMZN"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "marquee.log"), "w"))
        try:
            deadline = time.time() + 30
            while True:
                try:
                    spec = get_json(f"{base}/api/v1/openapi.json")
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            validate(spec)
            operations = sum(len([m for m in item if m in ("get", "put", "post", "delete")])
                             for item in spec["paths"].values())
            print(f"openapi.json: a valid OpenAPI {spec['openapi']} document ({operations} operations)")

            ws_schema = get_json(f"{base}/api/v1/ws-schema.json")
            jsonschema.Draft202012Validator.check_schema(ws_schema)
            server_messages = dict(ws_schema, oneOf=[{"$ref": "#/$defs/ServerMessage"}])
            validator = jsonschema.Draft202012Validator(server_messages)
            time.sleep(3)  # ticks, metrics and health flowing
            seen = asyncio.run(frames(f"ws://127.0.0.1:{port}/ws", 200))
            for frame in seen:
                errors = sorted(validator.iter_errors(frame), key=lambda e: e.path)
                if errors:
                    sys.exit(f"a WebSocket frame does not conform to ws-schema.json: {errors[0].message}\n{json.dumps(frame)[:2000]}")
            kinds = sorted({frame["type"] for frame in seen})
            print(f"ws-schema.json: valid JSON Schema 2020-12; {len(seen)} frames of the server conform ({', '.join(kinds)})")

            for label, headers in (("with the operator token", ["-H", f"Authorization: Bearer {TOKEN}"]),
                                   ("without it", [])):
                run = subprocess.run(
                    [schemathesis, "run", f"{base}/api/v1/openapi.json", "--checks", CHECKS,
                     "--phases", "examples,coverage,fuzzing", "--max-examples", "25", "--workers", "1",
                     "--exclude-path", "/ws", "--suppress-health-check", "all", *headers],
                    cwd=data)
                if run.returncode != 0:
                    with open(os.path.join(data, "marquee.log")) as log:
                        sys.stderr.write(log.read()[-3000:])
                    sys.exit(f"schemathesis ({label}) found answers the document does not allow")
                print(f"schemathesis {label}: every answer conforms, none is a 5xx")
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
