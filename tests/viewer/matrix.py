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
visibility columns straight from the store:

  a user is inside a thread when it is visible to the workspace, or to the
  user's team ("team:NAME"), or the user's address is one of its participants
  (or the user is an admin and admins see private threads); inside sees
  everything, others what threads.outside allows (nothing = not there at all).

Only the Python standard library is used.
"""
import json
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request

USERS = ["alice", "carol", "frank", "admin"]
LEVEL = {"nothing": 0, "metadata": 1, "subject": 2, "everything": 3}
NAME = {0: "hidden", 1: "metadata", 2: "subject", 3: "everything"}
SEARCHES = ["salary", "CONFIDENTIAL-HR-BANDS", "Paula", "forecast", "Rollout", "migration",
            "initech", "Angebot", "Wartungsvertrag", "carol", "PWNED-SUBJECT"]
SECRETS = ["CONFIDENTIAL-HR-BANDS", "Salary review", "raise is approved", "payroll-partner"]

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
participants = {}
for tid, addr in db.execute("SELECT DISTINCT m.thread_id, p.address FROM messages m"
                            " JOIN participants p ON p.message_id = m.id"
                            " WHERE m.thread_id IS NOT NULL"):
    participants.setdefault(tid, set()).add(addr)


def model(user, tid):
    addr, role, team = users[user]
    vis, outside, _ = threads[tid]
    if role == "admin" and admins_see_private:
        return 3
    if outside == "everything" or vis == "workspace" or (team and vis == "team:" + team) \
            or addr in participants.get(tid, ()):
        return 3
    return LEVEL.get(outside, 3)


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
        code, body = get(cookie, "/api/threads/%d" % tid)
        hcode, hbody = get(cookie, "/threads/%d" % tid)
        bodies += [body, hbody]
        got = json.loads(body)["access"] if code == 200 else "hidden"
        out("%s thread %d %s html=%d" % (user, tid, got, hcode))
        if got != NAME[lv[tid]] or (hcode == 200) != (lv[tid] > 0):
            bad.append("thread %d: got %s/%d, model %s" % (tid, got, hcode, NAME[lv[tid]]))
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
            want = sorted((t, NAME[lv[t]]) for t in vis_threads)
            got = sorted((t["id"], t["access"]) for t in items)
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
        out("%s search %s total=%d: %s" % (user, q, res["total"], " ".join(
            "%d:%s" % x for x in sorted(set(hits)))))
        for t, a in hits:
            if lv.get(t, 0) == 0 or a != NAME[lv[t]]:
                bad.append("search %s: thread %d %s, model %s" % (q, t, a, NAME[lv.get(t, 0)]))
        if res["total"] != len(res["items"]):
            bad.append("search %s: total %d, items %d" % (q, res["total"], len(res["items"])))
    tap(not bad, "%s: search hits are visible threads at the model's level" % user, "\n".join(bad))

    # the HR thread's content never reaches someone outside it
    hr = [t for t in threads if threads[t][0] == "participants" and threads[t][1] == "nothing"]
    inside_hr = all(lv[t] == 3 for t in hr)
    leaked = [s for s in SECRETS for b in bodies if s in b]
    if inside_hr:
        tap(bool(leaked), "%s: inside the HR thread, sees its content" % user)
    else:
        tap(not leaked, "%s: no page or API answer holds anything of the HR thread" % user,
            "leaked: %s" % sorted(set(leaked)))

with open(outpath, "w") as f:
    f.write("\n".join(results) + "\n")
sys.exit(0)
