"""An upstream for the streaming check: GET /v1/files/big/content sends SIZE bytes with a
Content-Length; POST or PUT /v1/uploads reads a body (sized or chunked) and answers its length."""

import http.server
import json
import sys

SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
CHUNK = b"\0" * (1 << 20)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/v1/files/big/content":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        left = SIZE
        while left > 0:
            piece = CHUNK if left >= len(CHUNK) else CHUNK[:left]
            self.wfile.write(piece)
            left -= len(piece)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return total
                left = size
                while left:
                    left -= len(self.rfile.read(min(left, 1 << 20)))
                self.rfile.readline()
                total += size
        left = total = int(self.headers.get("Content-Length", "0"))
        while left:
            read = len(self.rfile.read(min(left, 1 << 20)))
            if read == 0:
                break
            left -= read
        return total - left

    def do_POST(self):
        received = self.read_body()
        body = json.dumps({"bytes": received}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
