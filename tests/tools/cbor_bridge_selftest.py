#!/usr/bin/env python3
"""Self-test for cbor_bridge.py: starts moto + the bridge on free loopback ports and
drives them with boto3 speaking RPC v2 CBOR to CloudWatch, like aws-sdk-cloudwatch does.

botocore's CloudWatch model lists protocols ['smithy-rpc-v2-cbor', 'json', 'query'] but
botocore 1.44 ranks `json` first, so a stock boto3 client would send awsJson1_0. The test
therefore loads a copy of the model whose `protocols` is just ['smithy-rpc-v2-cbor'].

Run from the repo root:  target/ci-venv/bin/python tests/tools/cbor_bridge_selftest.py
Exits non-zero on the first failed check.
"""

import datetime as dt
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.parsers import RpcV2CBORParser

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)
CREDS = dict(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
UTC = dt.timezone.utc


AUTH = ("AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/monitoring/aws4_request,"
        " SignedHeaders=host, Signature=0")  # moto routes on the credential scope only


def rust_style_cbor(value):
    """Minimal CBOR encoder mimicking aws-smithy-cbor: dicts as indefinite-length maps,
    lists with a length, floats as float64, datetimes as tag 1 + float64 epoch seconds."""
    def head(major, n):
        if n < 24:
            return bytes([major << 5 | n])
        for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
            if n < 1 << (8 * size):
                return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    if isinstance(value, dict):
        return b"\xbf" + b"".join(rust_style_cbor(k) + rust_style_cbor(v)
                                   for k, v in value.items()) + b"\xff"
    if isinstance(value, list):
        return head(4, len(value)) + b"".join(rust_style_cbor(v) for v in value)
    if isinstance(value, str):
        return head(3, len(value.encode())) + value.encode()
    if isinstance(value, dt.datetime):
        return b"\xc1" + rust_style_cbor(float(value.timestamp()))
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, int) and value >= 0:
        return head(0, value)
    raise TypeError(value)


def check(cond, what, detail=""):
    if not cond:
        raise AssertionError(f"{what}: {detail}")
    print(f"ok - {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_tcp(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} never opened")


def start():
    moto_port = free_port()
    moto = subprocess.Popen(
        [os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_tcp(moto_port, moto)
    bridge = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "cbor_bridge.py"),
         "--upstream", f"http://127.0.0.1:{moto_port}", "--port", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = bridge.stdout.readline().strip()
    if not line.startswith("listening on http://127.0.0.1:"):
        raise RuntimeError(f"unexpected bridge banner {line!r}")
    return moto, bridge, line[len("listening on "):]


def cbor_only_session(data_dir):
    """A boto3 session whose CloudWatch model only offers smithy-rpc-v2-cbor."""
    model = botocore.session.get_session().get_service_model("cloudwatch")
    meta = model.metadata
    check(meta["protocol"] == "smithy-rpc-v2-cbor" and meta.get("awsQueryCompatible") is not None,
          "botocore's cloudwatch service-2.json: protocol smithy-rpc-v2-cbor, awsQueryCompatible",
          meta)
    raw = botocore.session.get_session().get_component("data_loader").load_service_model(
        "cloudwatch", "service-2")
    raw = json.loads(json.dumps(raw))  # private copy, the loader caches its dict
    raw["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    target = os.path.join(data_dir, "cloudwatch", meta["apiVersion"])
    os.makedirs(target)
    with open(os.path.join(target, "service-2.json"), "w") as fh:
        json.dump(raw, fh)
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, data_dir)
    return boto3.session.Session(botocore_session=session)


def run_checks(bridge_url, bridge_proc, data_dir):
    cw = cbor_only_session(data_dir).client("cloudwatch", endpoint_url=bridge_url, **CREDS)
    check(cw.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor",
          "boto3 CloudWatch client resolved to smithy-rpc-v2-cbor",
          cw.meta.service_model.resolved_protocol)
    wire = []  # (path, headers) of every CloudWatch request boto3 sends
    cw.meta.events.register("before-send.cloudwatch", lambda request, **_: wire.append((
        request.url, {k: v.decode() if isinstance(v, bytes) else v
                      for k, v in request.headers.items()})))

    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    base = now - dt.timedelta(minutes=8)  # whole minute, a few minutes ago
    m = lambda n, s=0: base + dt.timedelta(minutes=n, seconds=s)
    fn = [{"Name": "FunctionName", "Value": "orders"}]
    api = [{"Name": "ApiName", "Value": "x"}, {"Name": "Stage", "Value": "prod"}]

    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Invocations", "Dimensions": fn, "Timestamp": m(1, 10), "Values": [1, 2, 3]},
        {"MetricName": "Invocations", "Dimensions": fn, "Timestamp": m(2, 20), "Values": [10]},
        {"MetricName": "Invocations", "Dimensions": fn, "Timestamp": m(3), "Value": 4,
         "Unit": "Count"},
    ])
    url, headers = wire[-1]
    check(url.endswith("/service/GraniteServiceVersion20100801/operation/PutMetricData")
          and headers.get("smithy-protocol") == "rpc-v2-cbor"
          and headers.get("Content-Type") == "application/cbor",
          "put_metric_data AWS/Lambda went over the wire as CBOR", (url, headers))
    cw.put_metric_data(Namespace="AWS/ApiGateway", MetricData=[
        {"MetricName": "Count", "Dimensions": api, "Timestamp": m(1, 5), "Values": [5]},
        {"MetricName": "Count", "Dimensions": api, "Timestamp": m(3, 30), "Values": [7, 8]},
    ])
    check(True, "put_metric_data AWS/ApiGateway (ApiName=x, Stage=prod)")

    # Big enough (> 10 KiB) for botocore to gzip the body, like the Rust SDK does.
    big = [{"MetricName": "Latency", "Dimensions": [{"Name": "Shard", "Value": str(i % 4)}],
            "Timestamp": m(2), "Values": [float(j) for j in range(20)]} for i in range(100)]
    cw.put_metric_data(Namespace="Stampede/Gzip", MetricData=big)
    check(wire[-1][1].get("Content-Encoding") == "gzip", "large put_metric_data was gzip-encoded",
          wire[-1][1])

    def q(qid, ns, name, dims, stat):
        return {"Id": qid, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name,
                                                     "Dimensions": dims},
                                          "Period": 60, "Stat": stat}}
    queries = [
        q("inv_sum", "AWS/Lambda", "Invocations", fn, "Sum"),
        q("inv_p99", "AWS/Lambda", "Invocations", fn, "p99"),
        q("inv_max", "AWS/Lambda", "Invocations", fn, "Maximum"),
        # dimensions deliberately in the other order than they were put
        q("api_sum", "AWS/ApiGateway", "Count", api[::-1], "Sum"),
        q("shard0", "Stampede/Gzip", "Latency", [{"Name": "Shard", "Value": "0"}], "SampleCount"),
    ]
    start_t, end_t = m(0), m(6)
    res = cw.get_metric_data(MetricDataQueries=queries, StartTime=start_t, EndTime=end_t,
                             ScanBy="TimestampAscending")
    by_id = {r["Id"]: r for r in res["MetricDataResults"]}
    check([r["Id"] for r in res["MetricDataResults"]] == [x["Id"] for x in queries],
          "get_metric_data returns one result per query, in request order",
          [r["Id"] for r in res["MetricDataResults"]])
    got = lambda i: (by_id[i]["Timestamps"], by_id[i]["Values"])
    check(got("inv_sum") == ([m(1), m(2), m(3)], [6.0, 10.0, 4.0]),
          "Sum: values with minute-aligned aware timestamps", got("inv_sum"))
    check(got("inv_max") == ([m(1), m(2), m(3)], [3.0, 10.0, 4.0]), "Maximum", got("inv_max"))
    check(got("inv_p99") == ([], []) and by_id["inv_p99"]["StatusCode"] == "Complete"
          and by_id["inv_p99"]["Label"] == "Invocations p99",
          "p99 (unsupported by moto): empty, aligned lists, StatusCode Complete", by_id["inv_p99"])
    check(got("api_sum") == ([m(1), m(3)], [5.0, 15.0]),
          "ApiGateway Sum, dimensions matched regardless of order", got("api_sum"))
    check(got("shard0") == ([m(2)], [500.0]), "gzip-encoded data arrived intact", got("shard0"))
    check(all(t.tzinfo is not None for t in by_id["inv_sum"]["Timestamps"]),
          "timestamps decoded from CBOR tag 1")

    res = cw.get_metric_data(MetricDataQueries=queries[:2], StartTime=start_t, EndTime=end_t)
    by_id = {r["Id"]: r for r in res["MetricDataResults"]}
    check(got("inv_sum") == ([m(3), m(2), m(1)], [4.0, 10.0, 6.0]),
          "default ScanBy is TimestampDescending", got("inv_sum"))

    # aws-smithy-cbor writes structures as indefinite-length maps and timestamps as
    # tag 1 + float64; send such a body by hand, as the Rust SDK would.
    body = rust_style_cbor({"MetricDataQueries": queries[:1], "ScanBy": "TimestampAscending",
                            "StartTime": start_t, "EndTime": end_t})
    req = urllib.request.Request(
        bridge_url + "/service/GraniteServiceVersion20100801/operation/GetMetricData",
        method="POST", data=body, headers={
            "smithy-protocol": "rpc-v2-cbor", "content-type": "application/cbor",
            "accept": "application/cbor", "x-amzn-query-mode": "true", "Authorization": AUTH})
    with urllib.request.urlopen(req, timeout=10) as resp:
        raw, resp_headers = resp.read(), resp.headers
    op = cw.meta.service_model.operation_model("GetMetricData")
    decoded = RpcV2CBORParser().parse({"body": raw, "headers": {}, "status_code": 200},
                                      op.output_shape)["MetricDataResults"][0]
    check(resp_headers["smithy-protocol"] == "rpc-v2-cbor"
          and resp_headers["content-type"] == "application/cbor"
          and b"\xc1" in raw  # CBOR tag 1
          and (decoded["Timestamps"], decoded["Values"]) == ([m(1), m(2), m(3)], [6.0, 10.0, 4.0]),
          "Rust-style request (indefinite maps, float timestamps) -> CBOR answer", decoded)

    stats = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Invocations",
                                     Dimensions=fn, StartTime=start_t, EndTime=end_t, Period=60,
                                     Statistics=["Sum"])
    points = sorted((p["Timestamp"], p["Sum"]) for p in stats["Datapoints"])
    # moto quirk: GetMetricStatistics buckets start at the first datum (m(1, 10)), not at
    # StartTime or a period boundary like AWS, so 10 (at m(2, 20)) and 4 (at m(3)) share one.
    check(points == [(m(1, 10), 6.0), (m(2, 10), 14.0)], "get_metric_statistics", points)
    metrics = cw.list_metrics(Namespace="AWS/ApiGateway")["Metrics"]
    check(any(x["MetricName"] == "Count" for x in metrics), "list_metrics", metrics)

    try:
        cw.get_metric_data(MetricDataQueries=queries[:1], StartTime=end_t, EndTime=start_t)
        check(False, "EndTime before StartTime raises")
    except ClientError as err:
        meta = err.response["ResponseMetadata"]
        check(meta["HTTPStatusCode"] == 400 and err.response["Error"]["Code"] == "ValidationError"
              and "EndTime" in err.response["Error"]["Message"]
              and meta["HTTPHeaders"].get("smithy-protocol") == "rpc-v2-cbor"
              and meta["HTTPHeaders"].get("content-type") == "application/cbor",
              "EndTime before StartTime -> CBOR error, ClientError ValidationError (400)",
              err.response)
    try:
        cw.delete_dashboards(DashboardNames=["missing"])
        check(False, "deleting a missing dashboard raises")
    except ClientError as err:
        check(err.response["Error"]["Code"] == "ResourceNotFound"
              and err.response["ResponseMetadata"]["HTTPStatusCode"] == 404,
              "missing dashboard -> ClientError ResourceNotFound (404)", err.response)

    # Non-CBOR traffic is relayed verbatim: restJson1 API Gateway ...
    apigw = boto3.client("apigateway", endpoint_url=bridge_url, **CREDS)
    created = apigw.create_rest_api(name="x")
    fetched = apigw.get_rest_api(restApiId=created["id"])
    check(fetched["name"] == "x" and fetched["id"] == created["id"],
          "apigateway create_rest_api/get_rest_api pass through", fetched)
    # ... and a hand-made awsJson1_0 CloudWatch call.
    req = urllib.request.Request(bridge_url + "/", method="POST", data=b'{"Namespace": "AWS/Lambda"}',
                                 headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
        "Authorization": AUTH})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = json.loads(resp.read())
    check(any(x["MetricName"] == "Invocations" for x in body.get("Metrics", [])),
          "plain awsJson1_0 CloudWatch request passes through", body)

    bridge_proc.stdin.close()
    check(bridge_proc.wait(timeout=10) == 0, "bridge exits cleanly when stdin closes")


def main():
    moto, bridge, url = start()
    print(f"moto + bridge up; bridge at {url}")
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            run_checks(url, bridge, data_dir)
    except Exception as exc:
        print(f"FAIL - {exc!r}", file=sys.stderr)
        return 1
    finally:
        for proc in (bridge, moto):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
