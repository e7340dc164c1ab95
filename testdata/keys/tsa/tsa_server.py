#!/usr/bin/env python3
"""tsa_server.py - a TEST-ONLY RFC 3161 timestamp authority on 127.0.0.1.

Usage: tsa_server.py PORTFILE MODE COUNT
  Listens on 127.0.0.1 on a free port, writes the port number to PORTFILE
  (atomically), answers COUNT POST requests, then exits (also after 60 s
  idle).  Replies come from `openssl ts -reply` with tsa.key / tsa.pem.
  MODE: ok       the real reply (application/timestamp-reply)
        garbage  200 with bytes that are not a TimeStampResp
        500      HTTP 500
        reject   a well-formed TimeStampResp with status rejection
        other    a granted reply for a different query (wrong imprint / nonce)
"""
import http.server
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.dirname(HERE)


def reply(query, work):
    qpath = os.path.join(work, "q.tsq")
    rpath = os.path.join(work, "r.tsr")
    with open(qpath, "wb") as f:
        f.write(query)
    env = dict(os.environ, TSA_SERIAL=os.path.join(work, "serial"))
    subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(HERE, "tsa.cnf"),
                    "-section", "tsa_config", "-queryfile", qpath,
                    "-inkey", os.path.join(HERE, "tsa.key"), "-signer", os.path.join(HERE, "tsa.pem"),
                    "-chain", os.path.join(KEYS, "root.pem"), "-out", rpath],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(rpath, "rb") as f:
        return f.read()


def main():
    portfile, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    work = tempfile.mkdtemp(prefix="tsa-")
    with open(os.path.join(work, "serial"), "w") as f:
        f.write("01\n")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            query = self.rfile.read(n)
            status, ctype = 200, "application/timestamp-reply"
            if mode == "500":
                status, body = 500, b"internal error\n"
                ctype = "text/plain"
            elif mode == "garbage":
                body = b"\x30\x03garbage, not a TimeStampResp"
            elif mode == "reject":
                body = bytes.fromhex("3003020102")  # PKIStatusInfo {status rejection(2)}
                body = b"\x30" + bytes([len(body)]) + body
            elif mode == "other":
                other = subprocess.run(["openssl", "ts", "-query", "-digest", "00" * 32, "-sha256", "-cert"],
                                       check=True, capture_output=True).stdout
                body = reply(other, work)
            else:
                body = reply(query, work)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    srv.timeout = 60
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, portfile)
    for _ in range(count):
        srv.handle_request()
    srv.server_close()


if __name__ == "__main__":
    main()
