#!/usr/bin/env python3
"""matrix.py - the authorization matrix of crmview: each user x each thread x each
page and API endpoint, compared with an independent model of the visibility rule.

usage: matrix.py URL STORE.db OUT.txt [--admins-see-private]

Logs every test user in (password pw-NAME-2025), then for each user walks every
thread (/api/threads/ID and /threads/ID), every records table, every account,
contact and deal page (by every id in the store, hidden ones included), the
unassigned list and a set of searches.  It writes what each user got, one line
per fact, to OUT.txt (compared exactly with tests/viewer/expected/ by the caller)
and prints TAP lines for the checks against the model, which reads the
visibility columns and the participants straight from the store:

  a user is inside a thread as a whole when it is visible to the workspace, or
  to the user's team ("team:NAME"), or shows outsiders everything (or the user
  is an admin and admins see private threads): every message is his in full.
  Otherwise each message is his in full when he sent or received it (from, to,
  cc, bcc, envelope-rcpt; never sender or reply-to), and at what threads.outside
  allows when not (nothing = not there at all).  A thread is at the best level
  of its messages, and shows only the messages above nothing.

Only the Python standard library is used.
"""
import json
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request

USERS = ["alice", "carol", "frank", "gina", "henry", "ivan", "judy", "admin"]
LEVEL = {"nothing": 0, "metadata": 1, "subject": 2, "everything": 3}
NAME = {0: "hidden", 1: "metadata", 2: "subject", 3: "everything"}
SEARCHES = ["salary", "CONFIDENTIAL-HR-BANDS", "Paula", "forecast", "Rollout", "migration",
            "initech", "Angebot", "Wartungsvertrag", "carol", "PWNED-SUBJECT"]
SECRETS = ["CONFIDENTIAL-HR-BANDS", "Salary review", "raise is approved", "payroll-partner"]
# what only the HR thread's first two messages hold (later ones quote none of it)
FIRST_SECRETS = ["CONFIDENTIAL-HR-BANDS", "Salary review 2025 - confidential", "raise is approved",
                 "bands from April"]
# the body of each message below, by Message-ID: on no page of a user who may not read it
TOKENS = {"hr-3@payroll-partner.de": "TOKEN-V03-SENDER", "hr-4@payroll-partner.de": "TOKEN-V04-REPLYTO",
          "hr-5@payroll-partner.de": "TOKEN-V05-TO", "hr-6@payroll-partner.de": "TOKEN-V06-CC",
          "private-1@acme.com": "TOKEN-V07-PRIVATE", "private-2@acme.com": "TOKEN-V08-PRIVATE",
          "globex-cc-judy@globex.co.uk": "TOKEN-V09-GLOBEX"}
DELIVERY = ("from", "to", "cc", "bcc", "envelope-rcpt")

url, dbpath, outpath = sys.argv[1], sys.argv[2], sys.argv[3]
admins_see_private = "--admins-see-private" in sys.argv
db = sqlite3.connect("file:%s?mode=ro" % dbpath, uri=True)
results = []
failures = 0


def tap(ok, desc, detail=""):
    global failures
    print("%s - %s" % ("ok" if ok else "not ok", desc))
    if not ok:
        failures += 1
        for line in str(detail).splitlines()[:20]:
            print("# " + line)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def login(user):
    data = urllib.parse.urlencode({"address": user + "@example.com",
                                   "password": "pw-%s-2025" % user}).encode()
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url + "/login", data)
    except urllib.error.HTTPError as e:
        if e.code != 303:
            raise
        cookie = e.headers["Set-Cookie"].split(";")[0]
        return cookie
    raise RuntimeError("login did not redirect")


def get(cookie, path):
    req = urllib.request.Request(url + path, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(req) as r:
            body = r.read().decode()
            return r.status, body
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


# ---- the model ----
users = {}
for login_, role, team in db.execute(
        "SELECT u.login, u.role, t.name FROM users u LEFT JOIN teams t ON t.id = u.team_id"):
    users[login_.split("@")[0]] = (login_, role, team)
threads = {tid: (vis, outside, unassigned) for tid, vis, outside, unassigned in db.execute(
    "SELECT id, visibility, outside, unassigned FROM threads WHERE messages > 0")}
messages = {}       # thread -> [(message id, msgid)] in date order
for mid, msgid, tid in db.execute("SELECT id, msgid, thread_id FROM messages"
                                  " WHERE thread_id IS NOT NULL ORDER BY date, id"):
    messages.setdefault(tid, []).append((mid, msgid))
delivered = {}      # message id -> the addresses it was delivered to or sent by
for mid, role, addr in db.execute("SELECT message_id, role, address FROM participants"):
    if role in DELIVERY:
        delivered.setdefault(mid, set()).add(addr)


def msg_model(user, tid, mid):
    addr, role, team = users[user]
    vis, outside, _ = threads[tid]
    if role == "admin" and admins_see_private:
        return 3
    if outside == "everything" or vis == "workspace" or (team and vis == "team:" + team) \
            or addr in delivered.get(mid, ()):
        return 3
    return LEVEL.get(outside, 3)


def model(user, tid):
    return max(msg_model(user, tid, mid) for mid, _ in messages[tid])


def seen_count(user, tid):
    return sum(1 for mid, _ in messages[tid] if msg_model(user, tid, mid) > 0)


def linked(col, rid):
    return [t for (t,) in db.execute("SELECT thread_id FROM links WHERE %s = ?" % col, (rid,))
            if t in threads]


# ---- the walk ----
for user in USERS:
    cookie = login(user)
    bodies = []
    out = results.append
    lv = {t: model(user, t) for t in threads}
    seen_ok = True
    # every thread, API and page
    bad = []
    for tid in sorted(threads):
        code, body = get(cookie, "/api/threads/%d?limit=500" % tid)
        hcode, hbody = get(cookie, "/threads/%d" % tid)
        bodies += [body, hbody]
        th = json.loads(body) if code == 200 else None
        got = th["access"] if th else "hidden"
        want_msgs = [(mid, NAME[msg_model(user, tid, mid)]) for mid, _ in messages[tid]
                     if msg_model(user, tid, mid) > 0]
        got_msgs = [(m["id"], m.get("access", got)) for m in th["items"]] if th else []
        line = "%s thread %d %s html=%d" % (user, tid, got, hcode)
        if th and any(a != got for _, a in got_msgs):
            line += " messages=" + ",".join("%d:%s" % m for m in got_msgs)
        elif th and th["messages"] != len(messages[tid]):
            line += " sees=%s" % ",".join("%d" % m for m, _ in got_msgs)
        out(line)
        if got != NAME[lv[tid]] or (hcode == 200) != (lv[tid] > 0):
            bad.append("thread %d: got %s/%d, model %s" % (tid, got, hcode, NAME[lv[tid]]))
        if th and (got_msgs != want_msgs or th["messages"] != len(want_msgs)):
            bad.append("thread %d: messages %s (count %d), model %s" % (tid, got_msgs, th["messages"],
                                                                      want_msgs))
    tap(not bad, "%s: every thread page and API answer matches the model" % user, "\n".join(bad))

    # records tables and each record
    bad = []
    for kind, col, key in (("accounts", "account_id", "domain"), ("contacts", "contact_id", "address"),
                           ("deals", "deal_id", "key")):
        code, body = get(cookie, "/api/%s?sort=name&dir=asc&limit=500" % kind)
        hcode, hbody = get(cookie, "/%s?sort=name&dir=asc" % kind)
        bodies += [body, hbody]
        table = json.loads(body)
        listed = {it["id"]: it for it in table["items"]}
        out("%s %s total=%d: %s" % (user, kind, table["total"], " ".join(
            "%s(%d)" % (it[key], it["threads"]) for it in table["items"])))
        for rid, rkey in db.execute("SELECT id, %s FROM %s ORDER BY id" % (key, kind)):
            vis_threads = [t for t in linked(col, rid) if lv[t] > 0]
            should_see = bool(vis_threads) or not linked(col, rid)
            code, body = get(cookie, "/api/%s/%d?limit=500" % (kind, rid))
            hcode, _ = get(cookie, "/%s/%d" % (kind, rid))
            bodies.append(body)
            if code != 200:
                out("%s %s %s hidden html=%d" % (user, kind[:-1], rkey, hcode))
                if should_see or hcode != 404 or rid in listed:
                    bad.append("%s %s: hidden, model shows it" % (kind, rkey))
                continue
            rec = json.loads(body)
            items = rec["timeline"]["items"]
            out("%s %s %s threads=%d: %s" % (user, kind[:-1], rkey, rec["timeline"]["total"], " ".join(
                "%d:%s" % (t["id"], t["access"]) for t in items)))
            want = sorted((t, NAME[lv[t]], seen_count(user, t)) for t in vis_threads)
            got = sorted((t["id"], t["access"], t["messages"]) for t in items)
            dates = [t["last_date"] for t in items]
            if dates != sorted(dates, reverse=True):
                bad.append("%s %s: timeline not newest first by what the user sees: %s"
                           % (kind, rkey, dates))
            if not should_see or got != want or rec["timeline"]["total"] != len(want) \
                    or rec["threads"] != len(want) or rid not in listed \
                    or listed[rid]["threads"] != len(want) or hcode != 200:
                bad.append("%s %s: got %s, model %s" % (kind, rkey, got, want))
    tap(not bad, "%s: records, their counts and timelines match the model" % user, "\n".join(bad))

    # unassigned
    code, body = get(cookie, "/api/unassigned?limit=500")
    hcode, hbody = get(cookie, "/unassigned")
    bodies += [body, hbody]
    un = json.loads(body)
    got = sorted((t["id"], t["access"]) for t in un["items"])
    want = sorted((t, NAME[lv[t]]) for t, (_, _, u) in threads.items() if u and lv[t] > 0)
    out("%s unassigned total=%d: %s" % (user, un["total"], " ".join("%d:%s" % x for x in got)))
    tap(got == want and un["total"] == len(want),
        "%s: the unassigned threads match the model" % user, "got %s\nmodel %s" % (got, want))

    # search
    bad = []
    for q in SEARCHES:
        code, body = get(cookie, "/api/search?limit=500&q=" + urllib.parse.quote(q))
        hcode, hbody = get(cookie, "/search?q=" + urllib.parse.quote(q))
        bodies += [body.replace(q, ""), hbody.replace(q, "")]   # the query's own echo
        res = json.loads(body)
        hits = [(h["thread"], h["access"]) for h in res["items"]]
        out("%s search %s total=%d hits=%d: %s" % (user, q, res["total"], res["hits"], " ".join(
            "%d:%s" % x for x in sorted(set(hits)))))
        for h in res["items"]:
            t, a, m = h["thread"], h["access"], h["message"]
            want = msg_model(user, t, m) if t in threads else 0
            if want == 0 or a != NAME[want]:
                bad.append("search %s: message %d of thread %d %s, model %s" % (q, m, t, a, NAME[want]))
        if res["total"] != len(res["items"]):
            bad.append("search %s: total %d, items %d" % (q, res["total"], len(res["items"])))
    tap(not bad, "%s: search hits are visible threads at the model's level" % user, "\n".join(bad))

    # the HR thread's first messages never reach someone they were not delivered to
    hr = [t for t in threads if any(msgid == "hr-1@payroll-partner.de" for _, msgid in messages[t])]
    hr1 = [mid for t in hr for mid, msgid in messages[t] if msgid == "hr-1@payroll-partner.de"]
    inside_hr = all(msg_model(user, t, mid) == 3 for t in hr for mid in hr1)
    sees_part = any(lv[t] > 0 for t in hr)
    leaked = [s for s in (FIRST_SECRETS if sees_part else SECRETS) for b in bodies if s in b]
    if inside_hr:
        tap(bool(leaked), "%s: inside the HR thread, sees its content" % user)
    elif sees_part:
        tap(not leaked, "%s: sees the HR thread in part, and nothing of its first messages" % user,
            "leaked: %s" % sorted(set(leaked)))
    else:
        tap(not leaked, "%s: no page or API answer holds anything of the HR thread" % user,
            "leaked: %s" % sorted(set(leaked)))
    # each outsider's message: its body only for those who may read it
    bad = []
    for t in threads:
        for mid, msgid in messages[t]:
            tok = TOKENS.get(msgid)
            if not tok:
                continue
            shown = any(tok in b for b in bodies)
            if shown != (msg_model(user, t, mid) == 3):
                bad.append("%s (%s): %s, model %s" % (msgid, tok, "shown" if shown else "not shown",
                                                      NAME[msg_model(user, t, mid)]))
    tap(not bad, "%s: each outsider's message body is shown exactly to whom it was delivered" % user,
        "\n".join(bad))

with open(outpath, "w") as f:
    f.write("\n".join(results) + "\n")
sys.exit(0)
