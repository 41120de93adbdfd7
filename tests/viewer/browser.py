#!/usr/bin/env python3
"""browser.py - a real browser walks crmview: headless Chromium driven over the
DevTools protocol (a small WebSocket client, standard library only).

usage: browser.py URL SHOTS_DIR HOSTILE_THREAD_ID HR_THREAD_ID

Logs in through the form as alice, walks records -> record -> thread ->
search, takes a screenshot of each (kept in SHOTS_DIR), then opens the pages
that show the hostile messages and proves that nothing in them ran or loaded:
the title is the escaped subject, the DOM has no script, img, svg, iframe,
object or embed element and no element marked by an injected handler, the
hostile text is on the page as text, and the browser requested nothing but
crmview's own pages and stylesheet.  Last, logs in as ivan (named by an
outsider in To of one reply into the private HR thread) and checks that the
thread page and search show him that reply and nothing earlier.  Prints TAP
lines.
"""
import json
import os
import sys

URL, SHOTS, HOSTILE, HR = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Page, WebSocket, start_chromium, stop_chromium, tap  # noqa: E402



def inert(p, what):
    """the page shows mail as text: nothing ran, nothing loaded"""
    bad = p.eval("""(() => {
        const tags = document.querySelectorAll('script,img,svg,iframe,object,embed,frame,base,'
            + 'meta[http-equiv],link:not([href="/static/style.css"]),[style],[onerror],[onload]');
        return JSON.stringify({tags: tags.length,
            pwned: document.querySelectorAll('[data-pwned]').length,
            title: document.title, attr: document.body.getAttribute('data-pwned')});
    })()""")
    r = json.loads(bad)
    tap(r["tags"] == 0 and r["pwned"] == 0 and r["attr"] is None and "PWNED" not in
        r["title"].replace("document.title='PWNED-SUBJECT'", ""),
        "%s: no element, attribute or title from mail took effect" % what, bad)


proc, profile, ws_url = start_chromium()
try:
    p = Page(WebSocket(ws_url))
    p.shots = SHOTS
    p.call("Page.enable")
    p.call("Runtime.enable")
    p.call("Network.enable")
    p.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1,
           mobile=False)

    # log in through the form
    p.load(URL + "/accounts")
    tap(p.eval("location.pathname") == "/login", "a page without a session shows the login form")
    p.shot("01-login.png")
    p.load(action="""document.querySelector('input[name=address]').value='alice@example.com';
        document.querySelector('input[name=password]').value='pw-alice-2025';
        document.querySelector('form[action="/login"]').submit();""")
    tap(p.eval("location.pathname") == "/accounts", "the login form leads back to the records")
    tap(p.eval("document.cookie") == "", "the session cookie is out of the page's reach (HttpOnly)")

    # records -> record -> thread -> search
    rows = p.eval("document.querySelectorAll('table.grid tbody tr').length")
    tap(rows and rows > 0, "records: the accounts table has rows (%s)" % rows)
    p.load(URL + "/accounts?sort=threads&dir=desc")
    first = p.eval("document.querySelector('table.grid tbody tr td a').href")
    tap(p.eval("document.querySelector('th.sorted a').textContent").startswith("Threads"),
        "records: sorted by thread count")
    p.shot("02-records.png")
    # a column's filter box and the page size belong to the form above the table
    p.load(action="""document.querySelector('input[form=filters][name=domain]').value='GLOBEX';
        document.querySelector('select[name=per]').value='25';
        document.getElementById('filters').requestSubmit();""")
    search = p.eval("location.search")
    tap("domain=GLOBEX" in search and "sort=threads" in search and "per=25" in search,
        "records: a column filter submits with the sort and the page size", search)
    tap(p.eval("document.querySelectorAll('table.grid tbody tr').length") == 1,
        "records: the column filter leaves the one account it names")
    p.load(first)
    tl = p.eval("document.querySelectorAll('table.timeline tbody tr').length")
    tap(tl and tl > 0, "record: the busiest account shows its timeline (%s threads)" % tl)
    p.shot("03-record.png")
    thread = p.eval("document.querySelector('table.timeline td.conv a').href")
    p.load(thread)
    msgs = p.eval("document.querySelectorAll('article.msg').length")
    tap(msgs and msgs > 0, "thread: its messages are shown (%s)" % msgs)
    tap(p.eval("!!document.querySelector('section.why')"), "thread: it says why it is here")
    p.shot("04-thread.png")
    p.load(action="""document.querySelector('form.search input').value='forecast';
        document.querySelector('form.search').submit();""")
    hits = p.eval("document.querySelectorAll('ol.hits li mark').length")
    tap(p.eval("location.pathname") == "/search" and hits and hits > 0,
        "search: results with highlighted words (%s marks)" % hits)
    p.shot("05-search.png")

    # the hostile messages
    p.load(URL + "/threads/" + HOSTILE)
    text = p.eval("document.body.innerText")
    tap("<script>document.title='PWNED-BODY';" in text and "</textarea></pre></details><script>" in text,
        "hostile thread: the script tags are on the page as text")
    tap(p.eval("document.title") ==
        "<script>document.title='PWNED-SUBJECT'</script> quarterly invoice \u00b7 crmview",
        "hostile thread: the title is the subject as text", p.eval("document.title"))
    tap("<img src=/pwned-att onerror=alert(1)>.pdf" in text and
        "<script>document.title='PWNED-ATT'</script>.html" in text,
        "hostile thread: attachment names are text")
    tap("<img src=/pwned-from onerror=\"document.title='PWNED-FROM'\">" in text,
        "hostile thread: an encoded-word display name is text")
    inert(p, "hostile thread")
    p.shot("06-hostile-thread.png")
    for path, what in (("/search?q=PWNED", "hostile search"), ("/unassigned", "unassigned"),
                       ("/contacts?sort=name", "contacts")):
        p.load(URL + path)
        inert(p, what)
    p.shot("07-hostile-search.png")
    # a colleague an outsider put in To of one reply into the private HR thread
    p.call("Network.enable")
    p.call("Network.clearBrowserCookies")
    p.load(URL + "/login")
    p.load(action="""document.querySelector('input[name=address]').value='ivan@example.com';
        document.querySelector('input[name=password]').value='pw-ivan-2025';
        document.querySelector('form[action="/login"]').submit();""")
    tap(p.eval("location.pathname") == "/accounts", "ivan logs in")
    p.load(URL + "/threads/" + HR)
    text = p.eval("document.body.innerText")
    msgs = p.eval("document.querySelectorAll('article.msg').length")
    tap(msgs == 1 and "TOKEN-V05-TO" in text, "HR thread: ivan sees the one reply sent to him (%s)"
        % msgs)
    tap("CONFIDENTIAL-HR-BANDS" not in text and "bands from April" not in text,
        "HR thread: and nothing of the messages before it")
    p.shot("08-partial-thread.png")
    p.load(URL + "/search?q=salary")
    text = p.eval("document.body.innerText")
    hits = p.eval("document.querySelectorAll('ol.hits > li').length")
    tap(hits == 1 and "confidential" not in text.lower(),
        "search: ivan finds his reply only (%s hits)" % hits)
    foreign = [u for u in p.requests() if not u.startswith(URL) or "/pwned" in u.lower()]
    tap(not foreign, "the browser asked for nothing but crmview's own pages (%d requests)"
        % len(p.requests()), "\n".join(foreign))
finally:
    stop_chromium(proc, profile)
sys.exit(0)
