"""A starter HTTP server from `nabla-build init --lang python --server`.

nabla.json lists its port, so the image takes the container's network; `nabla-build run`
gives it what it needs and prints its URL. Ctrl-C or `docker stop` ends it cleanly.
"""
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"Hello from a nabla unikernel!\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    server = ThreadingHTTPServer(("0.0.0.0", port), Hello)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on {port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


main()
