"""Send COUNT GET requests for PATH to an HTTPS server as fast as one kept-alive connection allows, and print a
JSON object: the count of each status, the error codes of the 429 answers' JSON bodies, and the seconds taken.

    request_burst.py --url=https://host/ --ca-file=ca.crt --path=/_matrix/client/v3/login --count=300
"""

import argparse
import collections
import http.client
import json
import ssl
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca-file", required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    context = ssl.create_default_context(cafile=args.ca_file)
    context.check_hostname = False
    statuses = collections.Counter()
    limited = collections.Counter()
    started = time.monotonic()
    connection = http.client.HTTPSConnection(url.hostname, url.port or 443, context=context, timeout=10)
    for _number in range(args.count):
        connection.request("GET", args.path)
        response = connection.getresponse()
        body = response.read()
        statuses[response.status] += 1
        if response.status == 429:
            try:
                limited[json.loads(body).get("errcode", "")] += 1
            except ValueError:
                limited["(not JSON)"] += 1
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPSConnection(url.hostname, url.port or 443, context=context, timeout=10)
    print(json.dumps({"statuses": {str(k): v for k, v in statuses.items()}, "limited": dict(limited),
                      "seconds": round(time.monotonic() - started, 2)}))


if __name__ == "__main__":
    main()
