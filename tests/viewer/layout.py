#!/usr/bin/env python3
"""layout.py - every kind of crmview page fits the screen at 1400, 400 and
360 px: headless Chromium (tests/viewer/cdp.py) at each width.

usage: layout.py URL SHOTS_DIR MEMBER LONG_THREAD NORMAL_THREAD ACCOUNT CONTACT DEAL

Opens the login form, then logs in through it as the admin and as MEMBER
(password pw-long-2025) and opens the records tables, unassigned, the
mailboxes (a 403 page for the member), the account, contact and deal given,
the long thread, a normal thread, search and a 404 page.  On each page, at
each width, one check: the page does not scroll sideways
(documentElement.scrollWidth <= innerWidth) and no element whose overflow
is visible has text running past its box (a wide table may scroll inside a
box of its own).  A screenshot of each is kept in SHOTS_DIR as
USER-PAGE-WIDTH.png.  Prints TAP lines.
"""
import json
import os
import sys

URL, SHOTS, MEMBER = sys.argv[1], sys.argv[2], sys.argv[3]
LONGT, NORMT, ACC, CON, DEAL = sys.argv[4:9]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Page, WebSocket, start_chromium, stop_chromium, tap  # noqa: E402

WIDTHS = (1400, 400, 360)
PAGES = (("accounts", "/accounts"), ("contacts", "/contacts"), ("deals", "/deals"),
         ("unassigned", "/unassigned"), ("mailboxes", "/mailboxes"),
         ("account", "/accounts/" + ACC), ("contact", "/contacts/" + CON),
         ("deal", "/deals/" + DEAL), ("long-thread", "/threads/" + LONGT),
         ("thread", "/threads/" + NORMT), ("search", "/search?q=layoutprobe"),
         ("404", "/threads/999999"))

# the page's width, the window's, and the elements whose content spills out
FITS = """(() => {
    const bad = [];
    for (const e of document.body.querySelectorAll('*')) {
        if (e.clientWidth === 0 || getComputedStyle(e).overflowX !== 'visible')
            continue;
        if (e.scrollWidth > e.clientWidth + 1)
            bad.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                     + ' ' + e.scrollWidth + '>' + e.clientWidth);
    }
    return JSON.stringify({page: document.documentElement.scrollWidth,
                           window: window.innerWidth, spill: bad});
})()"""


def width(p, w):
    p.call("Emulation.setDeviceMetricsOverride", width=w, height=800, deviceScaleFactor=1,
           mobile=False)


def fits_everywhere(p, who, name):
    """one check per width: the page fits, and a screenshot"""
    for w in WIDTHS:
        width(p, w)
        r = json.loads(p.eval(FITS))
        tap(r["page"] <= r["window"] and not r["spill"],
            "%s %s at %d px: %d px wide, nothing spills" % (who, name, w, r["page"]),
            "page %d px in a %d px window; spilling: %s" % (r["page"], r["window"],
                                                             "; ".join(r["spill"][:8])))
        p.shot("%s-%s-%d.png" % (who, name, w))
    width(p, WIDTHS[0])


def log_in(p, address, password):
    p.call("Network.clearBrowserCookies")
    p.load(URL + "/login")
    p.load(action="""document.querySelector('input[name=address]').value=%s;
        document.querySelector('input[name=password]').value=%s;
        document.querySelector('form[action="/login"]').submit();"""
           % (json.dumps(address), json.dumps(password)))
    tap(p.eval("location.pathname") == "/accounts", "%s logs in" % address[:40])


proc, profile, ws_url = start_chromium()
try:
    p = Page(WebSocket(ws_url))
    p.shots = SHOTS
    p.call("Page.enable")
    p.call("Runtime.enable")
    p.call("Network.enable")
    width(p, WIDTHS[0])
    p.load(URL + "/login")
    fits_everywhere(p, "nobody", "login")
    for who, address, password in (("admin", "admin@example.com", "pw-admin-2025"),
                                   ("member", MEMBER, "pw-long-2025")):
        log_in(p, address, password)
        for name, path in PAGES:
            p.load(URL + path)
            if name == "long-thread":
                tap(len(p.eval("document.querySelector('h1').textContent")) >= 300 and
                    p.eval("document.querySelectorAll('article.msg').length") == 2,
                    "%s: the long thread shows its subject and both messages" % who)
            fits_everywhere(p, who, name)
finally:
    stop_chromium(proc, profile)
sys.exit(0)
