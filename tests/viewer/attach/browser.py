#!/usr/bin/env python3
"""browser.py - Chromium follows attachment links on crmview's thread page

usage: browser.py URL THREAD_ID DOWNLOAD_NAME DOWNLOAD_SHA256 IMAGE_NAME

Logs in as alice through the form, opens the thread, checks that each
attachment name is a link and that the small images are folded in a closed
<details>, follows the link of DOWNLOAD_NAME (sent as an attachment: the
browser saves it, and its sha256 must be DOWNLOAD_SHA256) and of
IMAGE_NAME (a PNG sent inline: the browser shows it as an image).  The
headless Chromium is driven over the DevTools protocol with the client of
tests/viewer/browser.py (copied: that script runs its walk when loaded).
Prints TAP lines.
"""
import base64
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

URL, THREAD, DL_NAME, DL_SHA, IMG_NAME = sys.argv[1:6]
failures = 0


def tap(ok, desc, detail=""):
    global failures
    print("%s - %s" % ("ok" if ok else "not ok", desc), flush=True)
    if not ok:
        failures += 1
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


class WebSocket:
    """just enough of RFC 6455 for the DevTools protocol: text frames, client masking"""

    def __init__(self, ws_url):
        rest = ws_url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.split(":")
        self.s = socket.create_connection((host, int(port)), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake: %r" % head[:100])
        self.buf = b""

    def send(self, text):
        data = text.encode()
        hdr = bytes([0x81])
        n = len(data)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7f
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            if b0 & 0x0f == 0x8:
                raise RuntimeError("websocket closed by peer")
            if b0 & 0x0f in (0x9, 0xa):
                continue
            msg += payload
            if b0 & 0x80:
                return msg.decode()


class Page:
    def __init__(self, ws):
        self.ws, self.n, self.events = ws, 0, []

    def call(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            for i, e in enumerate(self.events):
                if e.get("method") == name:
                    del self.events[i]
                    return e
            self.events.append(json.loads(self.ws.recv()))
        raise RuntimeError("no %s within %ds" % (name, timeout))

    def requests(self):
        return [e["params"]["request"]["url"] for e in self.events
                if e.get("method") == "Network.requestWillBeSent"]

    def load(self, url=None, action=None):
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        if url:
            self.call("Page.navigate", url=url)
        else:
            self.eval(action)
        self.wait_event("Page.loadEventFired")

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")


def start_chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    profile = tempfile.mkdtemp(prefix="crmview-chromium.")
    proc = subprocess.Popen([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync",
                             "--disable-extensions", "--user-data-dir=" + profile,
                             "--remote-debugging-port=0", "--window-size=1280,900",
                             "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
            break
        time.sleep(0.1)
    port = int(open(port_file).read().split("\n")[0])
    targets = json.load(urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port))
    pages = [t for t in targets if t.get("type") == "page"]
    if not pages:
        req = urllib.request.Request("http://127.0.0.1:%d/json/new?about:blank" % port,
                                     method="PUT")
        pages = [json.load(urllib.request.urlopen(req))]
    return proc, profile, pages[0]["webSocketDebuggerUrl"]


def link_of(p, name):
    """the href of the attachment link named NAME on the page, or None"""
    return p.eval("""(() => { for (const a of document.querySelectorAll('a.fname'))
        if (a.textContent === %s) return a.href; return null; })()""" % json.dumps(name))


def saved(folder, name, timeout=20):
    """the bytes of NAME once the browser has saved it in FOLDER, or None"""
    end = time.time() + timeout
    path = os.path.join(folder, name)
    while time.time() < end:
        if os.path.exists(path) and not any(f.endswith(".crdownload") for f in os.listdir(folder)):
            return open(path, "rb").read()
        time.sleep(0.1)
    return None


proc, profile, ws_url = start_chromium()
downloads = tempfile.mkdtemp(prefix="crmview-downloads.")
try:
    p = Page(WebSocket(ws_url))
    p.call("Page.enable")
    p.call("Runtime.enable")
    p.call("Page.setDownloadBehavior", behavior="allow", downloadPath=downloads)
    p.load(URL + "/login")
    p.load(action="""document.querySelector('input[name=address]').value='alice@example.com';
        document.querySelector('input[name=password]').value='pw-alice-2025';
        document.querySelector('form[action="/login"]').submit();""")
    p.load(URL + "/threads/" + THREAD)
    links = p.eval("document.querySelectorAll('article.msg a.fname').length")
    tap(links == 8, "the thread page links its eight attachments (%s)" % links)
    folded = p.eval("""JSON.stringify([...document.querySelectorAll('details.att-inline')].map(
        d => [d.open, d.querySelector('summary').textContent, d.querySelectorAll('a').length]))""")
    tap(folded == '[[false,"2 inline images",2]]', "the two small images are folded, closed", folded)
    href = link_of(p, DL_NAME)
    tap(href is not None, "%s is a link" % DL_NAME)
    p.eval("[...document.querySelectorAll('a.fname')].find(a => a.textContent === %s).click()"
           % json.dumps(DL_NAME))
    data = saved(downloads, DL_NAME)
    tap(data is not None and hashlib.sha256(data).hexdigest() == DL_SHA,
        "following it saves %s with the attachment's bytes" % DL_NAME,
        "saved: %r" % os.listdir(downloads))
    tap(p.eval("location.pathname") == "/threads/" + THREAD, "...and the thread page stays open")
    href = link_of(p, IMG_NAME)
    p.load(action="[...document.querySelectorAll('a.fname')].find(a => a.textContent === %s).click()"
           % json.dumps(IMG_NAME))
    shown = p.eval("""JSON.stringify([document.contentType, location.pathname,
        document.images.length ? document.images[0].naturalWidth : 0])""")
    tap(shown == json.dumps(["image/png", urllib.parse.urlparse(href).path, 120]).replace(" ", ""),
        "following %s shows the image in the browser" % IMG_NAME, shown)
    tap(IMG_NAME not in os.listdir(downloads), "...without saving it")
finally:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    for _ in range(20):
        shutil.rmtree(profile, ignore_errors=True)
        if not os.path.exists(profile):
            break
        time.sleep(0.1)
    shutil.rmtree(downloads, ignore_errors=True)
sys.exit(1 if failures else 0)
