#!/usr/bin/python3
"""A webhook receiver for the scenarios: appends every notification Alertmanager posts to a file.

Usage: webhook_receiver.py ADDRESS PORT FILE. One JSON document per line, as received.
"""

import http.server
import json
import sys


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        document = json.loads(body)
        with open(sys.argv[3], "a") as out:
            out.write(json.dumps(document, sort_keys=True) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Receiver).serve_forever()
