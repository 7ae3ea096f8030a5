"""A webhook receiver for the end-to-end scripts (integration.py, multinode.py): the product's side
of Warden's enforcement webhooks."""
import hashlib
import hmac
import http.server
import json
import threading
import time


class WebhookReceiver:
    """The product's side of enforcement webhooks: verifies every HMAC signature (and that it is
    fresh), applies each idempotency key once, and can be down (503) for its first few requests."""

    def __init__(self, secret, fail_first=0):
        receiver = self
        self.secret, self.fail_first = secret, fail_first
        self.attempts, self.applied, self.applied_keys, self.bad_signatures = [], [], set(), 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = dict(p.split("=", 1) for p in self.headers.get("Warden-Signature", "").split(",") if "=" in p)
                expected = hmac.new(receiver.secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
                valid = hmac.compare_digest(expected, parts.get("v1", "")) and abs(time.time() - int(parts.get("t", "0") or 0)) < 300
                key = self.headers.get("Idempotency-Key")
                with receiver.lock:
                    receiver.attempts.append(key)
                    if not valid:
                        receiver.bad_signatures += 1
                        status = 401
                    elif receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        status = 503
                    else:
                        if key not in receiver.applied_keys:
                            receiver.applied_keys.add(key)
                            receiver.applied.append((key, self.headers.get("Warden-Topic"), json.loads(body)))
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def topics(self):
        with self.lock:
            return [topic for _, topic, _ in self.applied]

    def wait_for(self, count, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline and len(self.topics()) < count:
            time.sleep(0.1)
        return self.topics()
