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
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request

URL, THREAD, DL_NAME, DL_SHA, IMG_NAME = sys.argv[1:6]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cdp  # noqa: E402
from cdp import Page, WebSocket, start_chromium, stop_chromium, tap  # noqa: E402



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
    stop_chromium(proc, profile)
    shutil.rmtree(downloads, ignore_errors=True)
sys.exit(1 if cdp.failures else 0)
