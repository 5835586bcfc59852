"""webdriver.py - a minimal W3C WebDriver client (standard library only).

Drives Debian's headless `chromium` through `chromedriver` (package
chromium-driver) for the web console's tests: open a URL, find elements,
click, type, run a script, save a screenshot.  The protocol is JSON over
HTTP (https://www.w3.org/TR/webdriver2/), so urllib is all it takes; no
selenium or playwright to install and pin.
"""
import base64
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(Exception):
    pass


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Browser:
    """A headless Chromium session; use as a context manager."""

    def __init__(self, width=1400, height=1000, log=None):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="nfpg-chromium.")
        self.proc = subprocess.Popen(
            ["chromedriver", "--port=%d" % self.port],
            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(100):
            try:
                self._call("GET", "/status")
                break
            except (OSError, WebDriverError):
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--user-data-dir=" + self.profile,
                         "--window-size=%d,%d" % (width, height), "--lang=en-US"],
            }}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            raise WebDriverError(e.read().decode(errors="replace")[:500])

    def _s(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.session, path), body)

    def get(self, url):
        self._s("POST", "/url", {"url": url})

    def run(self, script, *args):
        """Run a synchronous script; returns its value."""
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def run_async(self, script, *args):
        """Run a script whose last argument is the callback to call with the result."""
        return self._s("POST", "/execute/async", {"script": script, "args": list(args)})

    def find(self, css):
        return self._s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def find_all(self, css):
        return [e[ELEMENT] for e in self._s("POST", "/elements", {"using": "css selector", "value": css})]

    def click(self, element):
        self._s("POST", "/element/%s/click" % element, {})

    def clear(self, element):
        self._s("POST", "/element/%s/clear" % element, {})

    def type(self, element, text):
        self._s("POST", "/element/%s/value" % element, {"text": text})

    def text(self, element):
        return self._s("GET", "/element/%s/text" % element)

    def click_at(self, element, x, y):
        """A real pointer click at (x, y) pixels from the element's top-left corner."""
        rect = self._s("GET", "/element/%s/rect" % element)
        dx = int(x - rect["width"] / 2)
        dy = int(y - rect["height"] / 2)
        origin = {ELEMENT: element}
        self._s("POST", "/actions", {"actions": [{"type": "pointer", "id": "mouse",
            "parameters": {"pointerType": "mouse"}, "actions": [
                {"type": "pointerMove", "duration": 0, "origin": origin, "x": dx, "y": dy},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerUp", "button": 0}]}]})
        self._s("DELETE", "/actions")

    def wait(self, script, timeout=30, *args):
        """Poll a script until it returns something truthy; returns that."""
        end = time.time() + timeout
        while True:
            v = self.run(script, *args)
            if v:
                return v
            if time.time() > end:
                raise WebDriverError("timed out waiting for: " + script)
            time.sleep(0.2)

    def screenshot(self, path):
        png = base64.b64decode(self._s("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def quit(self):
        try:
            self._s("DELETE", "")
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        subprocess.run(["rm", "-rf", self.profile])
