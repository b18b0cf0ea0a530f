"""A Firehose that accepts everything, on 127.0.0.1, in its own process: the cost model's pushes
go through the real boto3 client (JSON serialisation, base64, SigV4 signing, an HTTP round
trip) and none of the stub's own CPU is counted in the handler's process.

    python -m bench.firehose_stub   # prints the port, then serves until stdin closes
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm holds the body
        # until the client's delayed ACK (40 ms on Linux), which is not Firehose's latency.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        target = self.headers.get("x-amz-target", "")
        answer: dict[str, Any]
        if target.endswith("PutRecordBatch"):
            records = json.loads(body)["Records"]
            answer = {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": [{"RecordId": "x"}] * len(records)}
        else:
            answer = {"DeliveryStreamDescription": {"DeliveryStreamStatus": "ACTIVE"}}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/x-amz-json-1.1")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # the parent closes it (or exits) to stop us
    server.shutdown()


if __name__ == "__main__":
    main()
