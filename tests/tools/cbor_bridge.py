#!/usr/bin/env python3
"""Loopback bridge: Smithy RPC v2 CBOR (what aws-sdk-cloudwatch speaks) -> moto's awsJson1_0.

moto 5.2.x only understands CloudWatch's `json` and `query` protocols. This server
sits between the SDK and moto:

* requests carrying `smithy-protocol: rpc-v2-cbor` to
  /service/GraniteServiceVersion20100801/operation/<Op> are decoded with botocore's
  CBOR parser against the operation's input shape, re-sent to moto as awsJson1_0,
  and moto's JSON answer is re-encoded as CBOR against the output shape;
* every other request (API Gateway, Lambda, ...) is relayed verbatim.

Usage (from the repo root):
    target/ci-venv/bin/python tests/tools/cbor_bridge.py --upstream http://127.0.0.1:PORT [--port 0]
Prints `listening on http://127.0.0.1:NNNN` once ready; exits on SIGTERM or when
stdin reaches EOF (pass --ignore-stdin when stdin is /dev/null, e.g. `... &` in a script).
Only the standard library and botocore are used.
"""

import argparse
import gzip
import http.client
import ipaddress
import json
import os
import re
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.parsers import JSONParser, RpcV2CBORParser
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer

# CBOR target prefix -> botocore service name.
SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}
CBOR_PATH = re.compile(r"^/service/([^/?]+)/operation/([^/?]+)$")
# The only statistics moto's GetMetricData computes; anything else (p99, tm90, IQM ...)
# comes back as None and moto's JSON serializer then crashes with a 500.
MOTO_STATS = {"Sum", "Average", "Minimum", "Maximum", "SampleCount"}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host",
              "proxy-connection", "te", "trailer", "upgrade"}
# Incoming headers not copied onto the translated (JSON) request.
CBOR_ONLY = HOP_BY_HOP | {"content-type", "content-encoding", "accept", "smithy-protocol",
                          "x-amz-target", "expect"}

_session = botocore.session.get_session()
_models = {}
_models_lock = threading.Lock()


def service_model(prefix):
    with _models_lock:
        if prefix not in _models:
            _models[prefix] = _session.get_service_model(SERVICES[prefix])
        return _models[prefix]


class BridgeError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def strip_metadata(parsed):
    if isinstance(parsed, dict):
        parsed.pop("ResponseMetadata", None)
    return parsed


def sort_dimensions(node):
    """Sort every Dimensions list by Name in place. moto compares dimension lists
    order-sensitively (its Dimension.__lt__ is broken), AWS treats them as a set."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Dimensions" and isinstance(value, list) and all(
                    isinstance(d, dict) and "Name" in d for d in value):
                value.sort(key=lambda d: d["Name"])
            sort_dimensions(value)
    elif isinstance(node, list):
        for item in node:
            sort_dimensions(item)


def split_unsupported_stats(op_name, params):
    """For GetMetricData, pull out MetricStat queries whose Stat moto cannot compute.
    Returns the placeholder results (no values, no timestamps) to add to moto's answer."""
    if op_name != "GetMetricData":
        return []
    kept, placeholders = [], []
    for query in params.get("MetricDataQueries", []):
        stat = query.get("MetricStat")
        if stat and stat.get("Stat") not in MOTO_STATS:
            if query.get("ReturnData", True):
                label = query.get("Label") or f"{stat['Metric'].get('MetricName')} {stat.get('Stat')}"
                placeholders.append({"Id": query["Id"], "Label": label, "Timestamps": [],
                                     "Values": [], "StatusCode": "Complete"})
        else:
            kept.append(query)
    if "MetricDataQueries" in params:
        params["MetricDataQueries"] = kept
    return placeholders


def fix_metric_data_results(parsed, placeholders, params_order):
    """Merge placeholder results, in request order, and drop any None value together with
    its timestamp (defensive: moto 5.2.5 500s on None before answering, see MOTO_STATS)."""
    results = parsed.get("MetricDataResults")
    if results is None and not placeholders:
        return
    results = list(results or []) + placeholders
    for result in results:
        values, stamps = result.get("Values", []), result.get("Timestamps", [])
        if any(v is None for v in values):
            pairs = [(t, v) for t, v in zip(stamps, values) if v is not None]
            result["Timestamps"] = [t for t, _ in pairs]
            result["Values"] = [v for _, v in pairs]
    rank = {qid: i for i, qid in enumerate(params_order)}
    results.sort(key=lambda r: rank.get(r.get("Id"), len(rank)))
    parsed["MetricDataResults"] = results


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # (host, port), set in main()
    verbose = False

    def log_message(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("cbor_bridge: " + (fmt % args) + "\n")

    # --- plumbing -------------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def call_upstream(self, method, path, headers, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(method, path, body=body if body or method not in ("GET", "HEAD") else None,
                         headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def reply(self, status, headers, body, reason=None):
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        if self.command != "HEAD" or not any(n.lower() == "content-length" for n, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def handle_any(self):
        body = self.read_body()
        match = CBOR_PATH.match(urllib.parse.urlsplit(self.path).path)
        if self.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor" and match:
            self.handle_cbor(match.group(1), match.group(2), body)
        else:
            self.passthrough(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any

    # --- verbatim relay ---------------------------------------------------------
    def passthrough(self, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            status, reason, resp_headers, resp_body = self.call_upstream(
                self.command, self.path, headers, body)
        except OSError as exc:
            return self.reply(502, [("Content-Type", "text/plain")], f"upstream: {exc}".encode())
        keep = [(k, v) for k, v in resp_headers if k.lower() not in HOP_BY_HOP - {"content-length"}]
        if self.command != "HEAD":
            keep = [(k, v) for k, v in keep if k.lower() != "content-length"]
        self.reply(status, keep, resp_body, reason)

    # --- CBOR <-> JSON ------------------------------------------------------------
    def handle_cbor(self, prefix, op_name, body):
        try:
            status, headers, payload = self.translate(prefix, op_name, body)
        except BridgeError as err:
            status, headers, payload = self.cbor_error(err.status, err.code, err.message)
        except Exception as exc:  # bug or malformed input: still answer in CBOR
            sys.stderr.write(f"cbor_bridge: {op_name}: {exc!r}\n")
            status, headers, payload = self.cbor_error(500, "InternalFailure", f"cbor_bridge: {exc}")
        self.reply(status, [("smithy-protocol", "rpc-v2-cbor")] + headers, payload)

    def translate(self, prefix, op_name, body):
        if prefix not in SERVICES:
            raise BridgeError(404, "UnknownOperationException", f"unknown service {prefix}")
        model = service_model(prefix)
        if op_name not in model.operation_names:
            raise BridgeError(404, "UnknownOperationException", f"unknown operation {op_name}")
        op = model.operation_model(op_name)

        # 1. CBOR request -> python params (gzip is used by the SDK for big PutMetricData).
        if "gzip" in self.headers.get("Content-Encoding", "").lower():
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError) as exc:
                raise BridgeError(400, "SerializationException", f"bad gzip body: {exc}")
        params = {}
        if body and op.input_shape is not None:
            try:
                params = strip_metadata(RpcV2CBORParser().parse(
                    {"body": body, "headers": {}, "status_code": 200}, op.input_shape))
            except Exception as exc:
                raise BridgeError(400, "SerializationException", f"bad CBOR body: {exc}")
        sort_dimensions(params)
        query_ids = [q.get("Id") for q in params.get("MetricDataQueries", [])]
        placeholders = split_unsupported_stats(op_name, params)

        # 2. params -> awsJson1_0 request to moto (keep Authorization: moto routes on it).
        request = JSONSerializer().serialize_to_request(params, op)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in CBOR_ONLY}
        headers.update(request["headers"])
        try:
            status, _, resp_headers, resp_body = self.call_upstream(
                "POST", "/", headers, request["body"])
        except OSError as exc:
            raise BridgeError(502, "ServiceUnavailable", f"upstream: {exc}")
        resp_headers = {k.lower(): v for k, v in resp_headers}
        extra = [("x-amzn-requestid", resp_headers["x-amzn-requestid"])] \
            if "x-amzn-requestid" in resp_headers else []

        # 3a. moto error -> CBOR error (same status, __type, message, x-amzn-query-error).
        if status >= 300:
            try:
                err = json.loads(resp_body or b"{}")
            except ValueError:
                err = {"message": resp_body.decode("utf-8", "replace")[:500]}
            code = err.get("__type") or resp_headers.get("x-amzn-errortype") or \
                ("InternalFailure" if status >= 500 else "BadRequest")
            code = code.split(":", 1)[0].rsplit("#", 1)[-1]
            message = err.get("message") or err.get("Message") or ""
            s, h, p = self.cbor_error(status, code, message, resp_headers.get("x-amzn-query-error"))
            return s, h + extra, p

        # 3b. moto JSON answer -> CBOR, typed by the output shape (timestamps -> tag 1).
        if op.output_shape is None:
            return 200, extra, b""  # Unit output: empty body, no Content-Type
        parsed = strip_metadata(JSONParser().parse(
            {"body": resp_body, "headers": resp_headers, "status_code": status}, op.output_shape))
        if op_name == "GetMetricData":
            fix_metric_data_results(parsed, placeholders, query_ids)
        out = bytearray()
        RpcV2CBORSerializer()._serialize_data_item(out, parsed, op.output_shape)
        return 200, [("Content-Type", "application/cbor")] + extra, bytes(out)

    @staticmethod
    def cbor_error(status, code, message, query_error=None):
        out = bytearray()
        ser = RpcV2CBORSerializer()
        out.append(0xA2)  # CBOR map with 2 entries
        for key, value in (("__type", code), ("message", message)):
            ser._serialize_type_string(out, key, None, None)
            ser._serialize_type_string(out, value, None, None)
        fault = "Receiver" if status >= 500 else "Sender"
        return status, [("Content-Type", "application/cbor"),
                        ("x-amzn-query-error", query_error or f"{code};{fault}")], bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True, help="moto URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--host", default="127.0.0.1", help="bind address; only 127.0.0.1 is allowed")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--ignore-stdin", action="store_true", help="do not exit on stdin EOF")
    ap.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = ap.parse_args()

    if args.host != "127.0.0.1":
        ap.error("refusing to bind anything but 127.0.0.1")
    up = urllib.parse.urlsplit(args.upstream)
    if up.scheme != "http" or not up.hostname or not up.port:
        ap.error("--upstream must look like http://127.0.0.1:PORT")
    try:
        loopback = up.hostname == "localhost" or ipaddress.ip_address(up.hostname).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        ap.error("--upstream must be a loopback address")

    Handler.upstream = (up.hostname, up.port)
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if not args.ignore_stdin:
        def watch_stdin():  # raw fd reads: no buffered-reader lock held at exit
            try:
                while os.read(sys.stdin.fileno(), 4096):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()

    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
