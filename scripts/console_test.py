#!/usr/bin/env python3
"""The web console in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by selenium against a real `warden serve`. Reviewers, a vendor reviewer, a lead and an
auditor each do their part of the day; screenshots of every main page are kept in
--artifacts; any error in the browser's console fails the run."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import integration  # noqa: E402  (Server, WebhookReceiver, check: one harness for both suites)
from integration import PACK, TOKEN, Server, WebhookReceiver, check  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

PASSWORD = "correct horse battery"


class Browser:
    """One person's browser: its own profile (cookies), with every page's console errors collected."""

    def __init__(self, base, artifacts, name):
        options = Options()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1300",
                         "--disable-gpu", "--no-first-run", "--disable-extensions"]:
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.implicitly_wait(0)
        self.base, self.artifacts, self.name = base, artifacts, name
        self.errors = []

    def get(self, path):
        self.driver.get(self.base + path)
        self.collect()

    def collect(self):
        # Script errors, CSP violations and failed subresources count; the status of a page the
        # test expects to be refused (a 403 page, a 401 sign-in) is checked by the test itself.
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            if entry.get("level") != "SEVERE":
                continue
            if entry.get("source") == "network" and not re.search(r"/(assets/|favicon)", message.split(" ")[0]):
                continue
            self.errors.append(message)

    def wait(self, condition, seconds=10):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if condition():
                    return True
            except Exception:
                pass
            time.sleep(0.05)
        return False

    def navigating(self, action, seconds=10):
        """Runs `action` (a click, a key) and waits until the page it leads to has loaded."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        action()

        def replaced():
            try:
                old.tag_name
                return False
            except StaleElementReferenceException:
                return self.driver.execute_script("return document.readyState") == "complete"
        if not self.wait(replaced, seconds):
            raise RuntimeError("the page did not change")
        self.collect()

    def click(self, css):
        """Clicks what leads to another page (a button of a form, a link) and waits for it."""
        element = self.find(css)
        self.navigating(element.click)

    def press(self, key):
        """A key that leads to another page, waiting for it."""
        self.navigating(lambda: self.driver.find_element(By.TAG_NAME, "body").send_keys(key))

    def shot(self, label):
        self.collect()
        self.driver.save_screenshot(os.path.join(self.artifacts, f"{self.name}-{label}.png"))

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def has(self, css):
        return len(self.all(css)) > 0

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def path(self):
        return self.driver.current_url[len(self.base):]

    def sign_in(self, name, password=PASSWORD):
        self.get("/login")
        self.find("input[name=name]").send_keys(name)
        self.find("input[name=password]").send_keys(password)
        self.click("form[action='/login'] button[type=submit]")

    def status_of(self, method, path, body=""):
        """What the server answers a request the page's own session makes (fetch, same origin)."""
        return self.driver.execute_async_script("""
            const [method, path, body, done] = arguments;
            fetch(path, {method, body: method === 'GET' ? undefined : body, credentials: 'same-origin',
                         headers: {'Content-Type': 'application/x-www-form-urlencoded'}, redirect: 'manual'})
              .then(r => done(r.status)).catch(e => done(String(e)));
        """, method, path, body)

    def fetch(self, path):
        """(status, content type, text) of a GET the page's own session makes."""
        return self.driver.execute_async_script("""
            const [path, done] = arguments;
            fetch(path, {credentials: 'same-origin'}).then(async r => done([r.status, r.headers.get('content-type'), await r.text()]))
              .catch(e => done([0, '', String(e)]));
        """, path)

    def quit(self):
        self.collect()
        self.driver.quit()


def add_user(binary, data_dir, name, role, queues=(), teams=()):
    arguments = [binary, "users", "add", "--data-dir", data_dir, "--name", name, "--role", role, "--password-stdin"]
    for queue in queues:
        arguments += ["--queue", queue]
    for team in teams:
        arguments += ["--team", team]
    added = subprocess.run(arguments, input=PASSWORD + "\n", capture_output=True, text=True)
    if added.returncode != 0:
        raise RuntimeError(added.stderr)


def api(server, path, body=None, method=None):
    status, _, raw = integration.request(server.url + path, None if body is None else json.dumps(body).encode(), "application/json", TOKEN, method)
    return status, (json.loads(raw) if raw and raw[:1] in (b"{", b"[") else raw)


def report(server, reporter, subject, reason, text):
    status, _ = api(server, "/v1/reports", {"reporter": {"type": "user", "id": reporter}, "subject": {"type": "user", "id": subject},
                                            "reason": reason, "text": text})
    return status


def wait_for_cases(server, queue, count, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        cases = api(server, f"/v1/cases?queue={queue}&state=open")[1].get("cases", [])
        if len(cases) >= count:
            return cases
        time.sleep(0.2)
    return []


def wait_until(condition, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def audit_actions(server):
    actions, after = [], 0
    while True:
        entries = api(server, f"/v1/audit?after={after}&limit=1000")[1].get("entries", [])
        actions += [entry["action"] for entry in entries]
        if len(entries) < 1000:
            return actions
        after = entries[-1]["seq"]


def run(binary, work, artifacts):
    pack = os.path.join(work, "pack")
    shutil.copytree(PACK, pack)
    # A small exposure cap on the general queue, so the test can reach it.
    queues = open(os.path.join(pack, "queues.yaml")).read()
    queues = queues.replace("  - name: general\n    description: Everything else.\n",
                            "  - name: general\n    description: Everything else.\n    wellness: {max_cases_per_hour: 2}\n")
    # Harassment counts as sensitive, two a day, with a break prompt after every two.
    queues = queues.replace("sensitive_categories: [child_safety, violent_extremism, self_harm, harassment.threats]",
                            "sensitive_categories: [harassment, child_safety]")
    queues = queues.replace("daily_exposure_cap: 60", "daily_exposure_cap: 2").replace("break_every: 15", "break_every: 2")
    open(os.path.join(pack, "queues.yaml"), "w").write(queues)
    # One delivery attempt, so a failing receiver makes dead letters at once.
    enforcement = open(os.path.join(pack, "enforcement.yaml")).read().replace("max_attempts: 12", "max_attempts: 1")
    open(os.path.join(pack, "enforcement.yaml"), "w").write(enforcement)
    integration.PACK = pack

    secret = "whsec_console"
    receiver = WebhookReceiver(secret)
    data_dir = os.path.join(work, "data")
    server = Server(binary, data_dir, env_extra={"WARDEN_WEBHOOK_URL": receiver.url, "WARDEN_WEBHOOK_SECRET": secret})
    out = server.output()
    link = re.search(r"/signin/([0-9a-f]+)", out)
    check(link is not None and "first admin" in out, "the first start prints a one-time sign-in link for the first admin")

    for name, role, queues_, teams in [("rev1", "reviewer", (), ("trust", "fraud", "tier2")), ("rev2", "reviewer", (), ("trust", "fraud", "tier2")),
                                       ("vendor1", "vendor_reviewer", ("spam", "general"), ("vendor",)), ("auditor1", "auditor", (), ()),
                                       ("lead1", "lead", (), ("trust", "fraud", "tier2")), ("lockme", "reviewer", (), ("trust",)),
                                       ("analyst1", "analyst", (), ())]:
        add_user(binary, data_dir, name, role, queues_, teams)

    # Cases: harassment (with a decision tree), spam (the vendor's queue), general (exposure cap).
    for i in range(3):
        report(server, f"r-h{i}", f"target-h{i}", "harassment", f"they keep posting about me {i}")
    for i in range(3):
        report(server, f"r-s{i}", f"spammer{i}", "spam", f"buy followers at cheap-followers.example {i}")
    for i in range(3):
        report(server, f"r-g{i}", f"other{i}", "platform_abuse", f"something odd {i}")
    check(len(wait_for_cases(server, "harassment", 3)) == 3 and len(wait_for_cases(server, "spam", 3)) == 3
          and len(wait_for_cases(server, "general", 3)) == 3, "reports open cases in the harassment, spam and general queues")

    browsers = []
    try:
        # The first admin's one-time link: works once, then leads to choosing a password.
        admin = Browser(server.url, artifacts, "admin")
        browsers.append(admin)
        admin.get(f"/signin/{link.group(1)}")
        admin.click("form[action^='/signin/'] button")
        check(admin.path() == "/account", "the one-time link signs the first admin in and opens the account page")
        admin.find("input[name=password]").send_keys("admin password 2026")
        admin.find("input[name=again]").send_keys("admin password 2026")
        admin.click("form[action='/account/password'] button")
        check("Password set" in admin.text(), "the first admin chooses a password")
        admin.shot("account")
        other = Browser(server.url, artifacts, "stranger")
        browsers.append(other)
        other.get(f"/signin/{link.group(1)}")
        other.click("form[action^='/signin/'] button")
        check("Link not valid" in other.text(), "the one-time link does not work twice")
        other.get("/")
        check(other.path().startswith("/login"), "a page asks whoever is not signed in to sign in")
        other.shot("login")
        for _ in range(5):
            other.sign_in("lockme", "wrong password!!")
        page = other.text()
        check("Too many failed sign-ins" in page and "try again after" in page,
              "five wrong passwords lock the account out, saying until when" + ("" if "try again after" in page else f" (page: {page[:200]!r})"))
        other.sign_in("lockme")
        check("Too many failed sign-ins" in other.text(), "the right password is refused while the account is locked out")
        check("sign_in.locked" in audit_actions(server), "the lock-out is in the audit log")

        # A reviewer: claim from harassment, walk the tree, preview a macro, decide; the webhook arrives.
        rev1 = Browser(server.url, artifacts, "reviewer")
        browsers.append(rev1)
        rev1.sign_in("rev1")
        check(rev1.path() == "/" and rev1.has("#my-queues"), "a reviewer signs in to the home page with their queues")
        headers = urllib.request.urlopen(server.url + "/login").headers
        csp = headers.get("Content-Security-Policy", "")
        check("script-src 'self'" in csp and "unsafe-inline" not in csp and headers.get("X-Frame-Options") == "DENY",
              "pages carry a Content-Security-Policy without inline script, and refuse framing")
        rev1.shot("home")
        rev1.click("button[data-claim-queue=harassment]")
        check(re.match(r"/cases/\d+$", rev1.path()) is not None and "in_review" in rev1.find("#case-state").text,
              "claim next opens the claimed case")
        first_case = rev1.path().split("/")[-1]
        check(rev1.has("ol.events.blurred"), "the harassment queue's content is blurred by default")
        reveal = rev1.all("form.reveal button")
        if reveal:
            reveal[0].click()
            time.sleep(0.5)
            check(rev1.has(".content.revealed"), "a reviewer reveals one item")
        check("case.reveal" in audit_actions(server), "the reveal is audited")
        # The manual form: preview the harassment notice.
        rev1.find("#manual summary").click() if not rev1.find("#manual").get_attribute("open") else None
        rev1.find("#decide select[name=macro] option[value=harassment_notice]").click()
        rev1.click("#decide button[formaction$='/preview']")
        check(rev1.has("#preview") and len(rev1.find("#preview pre").text) > 20, "a macro's preview renders before deciding")
        rev1.shot("case-preview")
        # The tree: answer its questions by number keys.
        check(rev1.has("#tree .answers"), "the harassment decision tree is shown inline")
        rev1.press("1")  # aimed at a person: yes
        rev1.press("2")  # threat: no
        rev1.press("1")  # repeated: yes -> bullying
        check(rev1.has("#tree-decide") and "bullying" in rev1.find("#tree").text, "the tree walked by keyboard reaches its outcome")
        rev1.shot("case-tree")
        # While working, the page renews the lease (the script posts to renew with the form token).
        lease_before = rev1.find("#lease").get_attribute("datetime")
        time.sleep(1.1)
        renewed = rev1.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const id = document.getElementById('case').dataset.case;
            const data = new URLSearchParams({_csrf: document.body.dataset.csrf});
            fetch('/cases/' + id + '/renew', {method: 'POST', body: data, headers: {'Accept': 'application/json'}})
              .then(r => r.json()).then(j => done(j.lease_expires_at)).catch(e => done(String(e)));
        """)
        check(renewed > lease_before, f"the lease is renewed while the reviewer works ({lease_before} -> {renewed})")
        rev1.find("#tree-decide textarea[name=rationale]").send_keys("Pile-on against the reporter")
        rev1.find("#tree-decide input[name=policy]").clear()
        rev1.find("#tree-decide input[name=policy]").send_keys("harassment-v3")
        rev1.click("#tree-decide button[type=submit]")
        check(f"Case {first_case} decided" in rev1.text(), "the decision is recorded and said")
        check(re.match(r"/cases/\d+$", rev1.path()) is not None and rev1.path().split("/")[-1] != first_case,
              "after a decision the next case of the queue opens")
        topics = receiver.wait_for(1)
        check("action.applied" in topics, f"the decision's action reaches the product's webhook ({topics})")
        _, decided = api(server, f"/v1/cases/{first_case}")
        path = (decided.get("decisions") or [{}])[0].get("tree_path") or []
        check(any("outcome: bullying" in step for step in path), "the tree's path is recorded with the decision")
        rev1.click("#case .toolbar button[data-key=r]")
        # Two harassment cases claimed: the daily cap for sensitive cases is reached.
        check("Time for a break" in rev1.find("#exposure").text and "reached today's cap" in rev1.find("#exposure").text,
              "after two sensitive cases the home page prompts a break and says the cap is reached")
        rev1.click("button[data-claim-queue=harassment]")
        check(rev1.path() == "/" and "only other work" in rev1.text(), "over the cap, claim-next on a sensitive queue gives no sensitive case")
        rev1.shot("exposure-cap")

        # Hold and hand off between two reviewers.
        rev1.get("/queues/spam")
        rev1.click("button[data-key=n]")
        spam_case = rev1.path().split("/")[-1]
        rev1.click("button[data-key=h]")
        check("on_hold" in rev1.find("#case-state").text, "a reviewer holds a case")
        rev1.find("summary[data-key=o]").click()
        rev1.find("form[action$='/handoff'] input[name=reviewer]").send_keys("rev2")
        rev1.find("form[action$='/handoff'] input[name=note]").send_keys("Needs your fraud eye")
        rev1.click("form[action$='/handoff'] button")
        check(f"Case {spam_case} handed to rev2" in rev1.text(), "and hands it off to a named reviewer")
        rev2 = Browser(server.url, artifacts, "reviewer2")
        browsers.append(rev2)
        # Signing in by keyboard alone: the name field has focus; Tab to the password, Enter submits.
        rev2.get("/login")
        rev2.driver.switch_to.active_element.send_keys("rev2", Keys.TAB, PASSWORD)
        rev2.navigating(lambda: rev2.driver.switch_to.active_element.send_keys(Keys.ENTER))
        check(rev2.path() == "/" and rev2.has("#my-queues"), "signing in works with the keyboard alone")
        check(rev2.has(f"#held a[href='/cases/{spam_case}']"), "the case waits among the other reviewer's held cases")
        rev2.click(f"#held a[href='/cases/{spam_case}']")
        check("rev2" in rev2.find("#holder").text and "Needs your fraud eye" in rev2.text(), "they open it, held by them, with the note")
        scores = " ".join(tag.text for tag in rev2.all("#content .score"))
        check("sms-spam:" in scores, f"the review screen shows the pack's classifier scores for the content ({scores[:60]!r})")

        # The product's receiver goes down: this decision's deliveries become dead letters.
        receiver.fail_first = 1000
        # Keyboard only: resume (u), comment (m), decide (d) with the defaults, straight to the next case.
        check(not rev2.has("#decide") and "resume it" in rev2.text(), "a case on hold says to resume it before deciding")
        rev2.press("u")
        check("in_review" in rev2.find("#case-state").text, "resumed by keyboard")
        rev2.find("body").send_keys("m")
        rev2.navigating(lambda: rev2.driver.switch_to.active_element.send_keys("Checked the links: spam", Keys.ENTER))
        check("Comment added" in rev2.text() and "Checked the links: spam" in rev2.text(), "a comment by keyboard alone")
        rev2.press("d")
        check(f"Case {spam_case} decided" in rev2.text(), "a decision by keyboard alone")
        rev2.shot("after-decision")
        rev2.get("/")
        rev2.find("body").send_keys("?")
        check(rev2.find("#shortcuts").get_attribute("open") is not None, "? lists the keyboard shortcuts")
        rev2.shot("shortcuts")

        # Exposure cap: the general queue takes two cases an hour per reviewer.
        for _ in range(2):
            rev2.get("/queues/general")
            rev2.press("n")
            check(re.match(r"/cases/\d+$", rev2.path()) is not None, "n claims the next case from the queue page")
            rev2.press("r")
        rev2.get("/queues/general")
        rev2.click("button[data-key=n]")
        check("Exposure limit reached" in rev2.text(), "the exposure cap stops a third claim within the hour, saying why")
        rev2.shot("exposure-limit")

        # A vendor reviewer: only assigned queues, personal data masked.
        vendor = Browser(server.url, artifacts, "vendor")
        browsers.append(vendor)
        vendor.sign_in("vendor1")
        queues_seen = [a.text for a in vendor.all("#my-queues tbody th a")]
        check(queues_seen == ["spam", "general"], f"a vendor reviewer sees only their queues ({queues_seen})")
        vendor.shot("home")
        vendor.get("/queues/harassment")
        check("Not allowed" in vendor.text(), "a vendor reviewer cannot open another queue")
        vendor.get(f"/cases/{first_case}")
        check("Not allowed" in vendor.text(), "nor a case in it")
        ip_event = {"id": "vendor-ip-1", "type": "message.sent", "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "actor": {"type": "user", "id": "spammer2"}, "entities": {"ip": "203.0.113.77"},
                    "data": {"text": "mail me at seller@example.com", "recipient": "u9"}}
        api(server, "/v1/events", ip_event)
        time.sleep(1.5)
        spam_cases = api(server, "/v1/cases?queue=spam")[1].get("cases", [])
        target = next((c["id"] for c in spam_cases if c["subject"] == "user:spammer2"), None)
        vendor.get(f"/cases/{target}")
        page = vendor.text()
        check("203.0.113.77" not in page and "seller@example.com" not in page and "s***@example.com" in page,
              "a vendor reviewer sees personal data masked")
        vendor.shot("case-masked")

        # An auditor: reads everything, changes nothing; the audit page verifies the chain.
        auditor = Browser(server.url, artifacts, "auditor")
        browsers.append(auditor)
        auditor.sign_in("auditor1")
        check(not auditor.has("button[data-claim-queue]"), "an auditor's home has no claim buttons")
        auditor.get(f"/cases/{spam_case}")
        check(not auditor.has("#case .toolbar") and not auditor.has("#decide") and not auditor.has("form[action$='/comment']"),
              "an auditor's case page has no way to change the case")
        csrf = auditor.find("body").get_attribute("data-csrf")
        status = auditor.status_of("POST", f"/cases/{spam_case}/comment", f"_csrf={csrf}&text=sneaky")
        check(status == 403, f"an auditor's forged comment is refused (403, got {status})")
        status = rev1.status_of("POST", f"/cases/{spam_case}/comment", "text=no-token")
        check(status == 403, f"a reviewer's form without the CSRF token is refused (403, got {status})")
        auditor.get("/audit?verify=1")
        check("The chain is intact" in auditor.find("#chain").text, "the audit page verifies the chain")
        auditor.shot("audit")
        auditor.get("/audit?action=sign_in.locked")
        check("user:lockme" in auditor.find("#audit").text, "the audit page filters by action")

        # Search: free text over report texts and rationales, with filters; results link to cases.
        rev1.get("/search?q=pile-on")
        check(rev1.has(f"#results a[href='/cases/{first_case}']"), "search finds a case by its decision's rationale")
        rev1.get("/search?q=cheap-followers&queue=spam")
        found = [a.text for a in rev1.all("#results td:first-child a")]
        check(len(found) >= 3, f"search finds cases by their report text, filtered by queue ({len(found)})")
        rev1.shot("search")
        vendor.get("/search?q=they+keep+posting")
        check(not vendor.has("#results td a"), "a vendor reviewer's search shows nothing from queues they do not work")

        # A lead: every queue's backlog by band.
        lead = Browser(server.url, artifacts, "lead")
        browsers.append(lead)
        lead.sign_in("lead1")
        lead.get("/queues")
        check(lead.has("#queue-overview") and "harassment" in lead.find("#queue-overview").text, "a lead sees every queue's backlog by band")
        lead.shot("queues")
        lead.get("/queues/spam")
        lead.shot("queue")
        # The entity page: events, cases, and the linked-entity graph whose nodes are links.
        lead.get("/entities/user/spammer2")
        check(lead.has("#graph svg a[href='/entities/ip/203.0.113.77']"), "the entity page draws linked entities as an SVG graph")
        check(lead.has("#entity-cases a") and "mail me at" in lead.find("#entity-events").text, "with the entity's cases and events")
        lead.shot("entity")
        lead.click("#graph svg a[href='/entities/ip/203.0.113.77'] circle")
        check(lead.path() == "/entities/ip/203.0.113.77" and lead.has("#graph svg a[href='/entities/user/spammer2']"),
              "each node opens its own entity page")
        rev1.get("/entities/user/spammer2")
        check("Not allowed" in rev1.text(), "the entity page needs the read scope, as the API's does")

        # The team page: who is online, what they hold, exposure; hand a held case on; redrive dead letters.
        lead.get("/lead")
        team = lead.find("#reviewers").text
        check("rev1" in team and "online" in team and "over cap" in team, "the team page shows reviewers online and over their exposure cap")
        held_rows = lead.all("#bulk-held input[name=case]")
        check(len(held_rows) >= 1, f"the team page lists held cases ({len(held_rows)})")
        held_id = held_rows[0].get_attribute("value")
        held_rows[0].click()
        lead.find("#bulk-held input[name=operation][value=reassign]").click()
        lead.find("#bulk-held input[name=reviewer]").send_keys("rev1")
        lead.click("#bulk-held button[type=submit]")
        _, reassigned = api(server, f"/v1/cases/{held_id}")
        check("given to rev1" in lead.text() and reassigned.get("assignee") == "user:rev1", "a lead gives a held case to another reviewer")
        dead = lead.all("#redrive input[name=id]")
        check(len(dead) >= 1, f"failed deliveries show as dead letters ({len(dead)})")
        lead.shot("team")
        receiver.fail_first = 0
        before = len(receiver.topics())
        lead.click("#redrive button[value=all]")
        check("back in line" in lead.text() and len(receiver.wait_for(before + 1)) > before, "redrive delivers the dead letters once the receiver is back")
        lead.get("/queues/general")
        boxes = lead.all("#bulk-queue input[name=case]")
        moved_id = boxes[0].get_attribute("value") if boxes else None
        if boxes:
            boxes[0].click()
            lead.find("#bulk-queue input[name=operation][value=move]").click()
            lead.find("#bulk-queue select[name=queue] option[value=spam]").click() if lead.has("#bulk-queue select[name=queue] option[value=spam]") else None
            lead.find("#bulk-queue input[name=reason]").send_keys("actually spam")
            lead.click("#bulk-queue button[type=submit]")
        _, moved = api(server, f"/v1/cases/{moved_id}") if moved_id else (0, {})
        check(moved.get("queue") == "spam" and "moved to spam" in lead.text(), "a lead moves cases to another queue in bulk, with a reason")

        # Dashboards: SVG charts drawn by the server, each with its CSV.
        lead.get("/dashboards?days=7")
        charts = lead.all(".chart-card svg")
        check(len(charts) == 7 and lead.has("#chart-decisions polyline"), f"the dashboards draw their charts as SVG ({len(charts)})")
        check(lead.has("#timings tbody th"), "time to first action and resolution against targets, per queue and band")
        lead.shot("dashboards")
        status, kind, text = lead.fetch("/dashboards/decisions.csv?days=7")
        lines = text.strip().splitlines()
        check(status == 200 and kind.startswith("text/csv") and lines[0] == "day,violation,no_violation,upheld,overturned" and len(lines) == 8,
              "each chart exports its numbers as CSV")
        decided = sum(int(v) for line in lines[1:] for v in line.split(",")[1:])
        check(decided >= 2, f"the CSV counts the decisions made ({decided})")

        # An analyst changes a rule in the browser: diagnostics as they type, a refused save with its
        # position, tests and a backtest, then a save as shadow that is versioned and audited.
        analyst = Browser(server.url, artifacts, "analyst")
        browsers.append(analyst)
        analyst.sign_in("analyst1")
        analyst.get("/rules")
        check(analyst.has("#rules a[href='/rules/known_spam_domain']") and analyst.has("#rules svg.spark"),
              "the rules page lists every rule with its hourly hits")
        analyst.shot("rules")
        versions_before = {r["name"]: r["version"] for r in api(server, "/v1/rules")[1]["rules"]}
        analyst.get("/rules/known_spam_domain")
        editor = analyst.find("#rule-text")
        broken = editor.get_attribute("value").replace("severity high", "severity extreme")
        editor.clear()
        editor.send_keys(broken)
        check(analyst.wait(lambda: "rules/spam.rules:" in analyst.find("#diagnostics").text and "extreme" in analyst.find("#diagnostics").text),
              "a mistake shows as the analyst types, with file:line:column")
        analyst.shot("rule-diagnostics")
        analyst.click("#rule-editor button[formaction$='/save']")
        check("Not saved" in analyst.text() and "rules/spam.rules:" in analyst.text(), "saving it is refused, saying where the mistake is")
        check(api(server, "/v1/rules")[1]["rules"][0]["version"] == versions_before[api(server, "/v1/rules")[1]["rules"][0]["name"]],
              "and nothing went live")
        analyst.get("/rules/new_account_link_burst")
        editor = analyst.find("#rule-text")
        changed = editor.get_attribute("value").replace("count(message.sent by event.actor within 10m", "count(message.sent by event.actor within 15m")
        editor.clear()
        editor.send_keys(changed)
        analyst.find("#rule-editor select[name=hours] option[value='24']").click()
        analyst.click("#rule-editor button.primary")
        check(analyst.has("#trial.ok") and "all pass" in analyst.find("#trial").text and analyst.has("#backtest"),
              "a trial runs the pack's tests and a backtest over recent events")
        analyst.shot("rule-trial")
        analyst.find("#rule-editor select[name=mode] option[value=shadow]").click()
        analyst.click("#rule-editor button[formaction$='/save']")
        after = {r["name"]: r for r in api(server, "/v1/rules")[1]["rules"]}["new_account_link_burst"]
        check("Saved new_account_link_burst as shadow" in analyst.text() and after["mode"] == "shadow"
              and after["version"] != versions_before["new_account_link_burst"], "saved as shadow, a new version is live")
        check(analyst.has("#history pre.diff .added") and "within 15m" in analyst.find("#history").text, "the rule's history shows the change as a diff")
        check("rules.edit" in audit_actions(server), "the change is audited")
        analyst.shot("rule-history")
        rev1.get("/rules")
        check("Not allowed" in rev1.text(), "a reviewer cannot open the rules")

        # Investigations: the analyst runs SQL over the views (table and chart), a write is refused with
        # the query kept, the query is saved with a parameter and run again from the list; clusters.
        analyst.get("/query")
        box = analyst.find("#sql")
        box.clear()
        box.send_keys("SELECT hour(received_at) AS hour, count(*) AS n FROM events GROUP BY 1 ORDER BY 1")
        analyst.click("#run")
        check(analyst.has("#query-result") and re.search(r"\d+ rows? in [\d.]+ ms", analyst.find("#query-summary").text) is not None,
              "an analyst runs SQL over the views and sees the table")
        check(analyst.has("#query-chart svg") or len(analyst.all("#query-result tbody tr")) == 1, "results over time come with a chart")
        analyst.shot("query")
        box = analyst.find("#sql")
        box.clear()
        box.send_keys("DELETE FROM events")
        analyst.click("#run")
        refusal = analyst.find("#query-refusal").text if analyst.has("#query-refusal") else ""
        check(("not allowed" in refusal or "cannot modify" in refusal) and "DELETE FROM events" in analyst.find("#sql").get_attribute("value"),
              f"a write is refused, saying why, with the query kept ({refusal!r})")
        box = analyst.find("#sql")
        box.clear()
        box.send_keys("SELECT seq, type FROM events WHERE type = :type ORDER BY seq DESC")
        analyst.find("#save summary").click()
        analyst.find("#save input[name=name]").send_keys("events-of-type")
        analyst.find("#save input[name=description]").send_keys("Recent events of one type")
        analyst.click("#save-query")
        check(analyst.path().startswith("/query") and analyst.has("#saved-queries a[href='/query?saved=events-of-type']"), "the query is saved for the team")
        analyst.find("#parameters input[name='param.type']").send_keys("message.sent")
        analyst.click("#run")
        check(analyst.has("#query-result") and "message.sent" in analyst.find("#query-result").text, "the saved query runs with its parameter")
        check("query.run" in audit_actions(server) and "query.save" in audit_actions(server), "queries and saves are audited")
        check(analyst.has("#derived-tables") and "derived_repeat_offenders" in analyst.find("#derived-tables").text,
              "the query page lists the derived tables with their freshness")
        analyst.get("/clusters")
        check(analyst.has("#clusters-summary"), "the clusters page answers")
        analyst.shot("clusters")

        # Search finds events by their words beside cases; hash banks: match a hash, deconfirm a false match.
        analyst.get("/search?q=prize")
        check(analyst.has("#event-results") and analyst.has("#event-count"), "search shows the events whose text has the words")
        analyst.shot("search-events")
        analyst.get("/banks?hash=f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22")
        check(analyst.has("#banks") and "known-ve-images" in analyst.find("#banks").text, "the banks page lists the pack's banks")
        check("matches" in analyst.find("#match-verdict").text and "known-ve-images" in analyst.find("#matches").text,
              "a hash 4 bits from a banked image matches it")
        analyst.get("/banks?bank=known-ve-images")
        before = len(analyst.all("#bank-hashes button.danger"))
        analyst.navigating(lambda: analyst.find("#bank-hashes button.danger").click())
        check(len(analyst.all("#bank-hashes button.danger")) == before - 1, "a hash is deconfirmed from the bank's page")
        check("bank.deconfirm" in audit_actions(server), "deconfirming is audited")
        analyst.shot("banks")
        rev1.get("/banks")
        check("Not allowed" in rev1.text(), "a reviewer cannot open the banks")

        # Bulk action: from a query's result to a label job (previewed, run, reversed); an analyst's
        # enforcement job waits for a lead, who approves it from the bulk page.
        analyst.get("/query")
        box = analyst.find("#sql")
        box.clear()
        box.send_keys("SELECT DISTINCT actor AS entity FROM events WHERE actor IS NOT NULL ORDER BY 1 LIMIT 3")
        analyst.click("#run")
        analyst.click("#act-on-result button")
        check(analyst.path().startswith("/bulk") and "SELECT DISTINCT actor" in analyst.find("#source-value").get_attribute("value"),
              "a query's result leads to the bulk page with the query as the source")
        analyst.find("#bulk-form input[name=label]").send_keys("reviewed_ring")
        analyst.find("#bulk-form input[name=expires_in]").send_keys("7d")
        analyst.click("#bulk-preview")
        plan = analyst.find("#bulk-plan-summary").text if analyst.has("#bulk-plan-summary") else ""
        check(plan.startswith("3 entities") and "runs when started" in plan and len(analyst.all("#bulk-sample tbody tr")) == 3
              and not api(server, "/v1/bulk")[1]["jobs"], f"the preview says what happens to whom and changes nothing ({plan!r})")
        analyst.shot("bulk-preview")
        analyst.click("#bulk-start")
        job_path = analyst.path()
        check(re.match(r"/bulk\?job=\d+$", job_path) is not None and "started" in analyst.text(), f"the job starts ({job_path})")
        job_id = job_path.split("=")[-1]
        check(wait_until(lambda: api(server, f"/v1/bulk/{job_id}")[1]["state"] == "done"), "the label job runs to the end")
        analyst.get(job_path)
        check(len(analyst.all("#bulk-items tbody tr")) == 3 and "done" in analyst.find(f"#bulk-job-{job_id} .bulk-state").text,
              "the job shows each entity and its progress")
        analyst.find(f"#bulk-job-{job_id} input[name=reason]").send_keys("ring was a test")
        analyst.click(f"#bulk-job-{job_id} button.danger")
        check(wait_until(lambda: api(server, f"/v1/bulk/{job_id}")[1]["state"] == "reversed"), "reversing takes the labels off again")
        analyst.get("/bulk")
        analyst.find("#bulk-form textarea[name=source_value]").send_keys("user:bulk-target-1\nuser:bulk-target-2")
        analyst.find("#bulk-form select[name=kind] option[value=enforce]").click()
        analyst.find("#bulk-form select[name=queue] option[value=spam]").click()
        analyst.find("#bulk-form input[name=category]").send_keys("spam")
        analyst.find("#bulk-form select[name=action] option[value=warn]").click()
        analyst.find("#bulk-form input[name=rationale]").send_keys("spam ring found by the query")
        analyst.click("#bulk-start")
        enforce_id = analyst.path().split("=")[-1]
        check("waits for another lead" in analyst.text() and not analyst.has(f"#bulk-job-{enforce_id} form[action$='/approve']"),
              "an analyst's enforcement waits for a lead, and the analyst cannot approve it")
        lead.get("/bulk")
        lead.click(f"#bulk-job-{enforce_id} form[action$='/approve'] button")
        check(wait_until(lambda: api(server, f"/v1/bulk/{enforce_id}")[1]["state"] == "done", 30), "approved, the enforcement job runs")
        items = api(server, f"/v1/bulk/{enforce_id}/items")[1]["items"]
        check(len(items) == 2 and all(item["state"] == "done" and item["action_ids"] for item in items),
              f"each entity got a decided case with the action ({items})")
        lead.get(f"/bulk?job={enforce_id}")
        lead.shot("bulk")
        check({"bulk.create", "bulk.approve", "bulk.reverse"} <= set(audit_actions(server)), "bulk jobs are audited")
        rev1.get("/bulk")
        check("Not allowed" in rev1.text(), "a reviewer cannot open the bulk page")
        rev1.get("/query")
        check("Not allowed" in rev1.text(), "a reviewer cannot open the query page")

        # Incidents: a lead opens one, acknowledges it, updates stakeholders, adds a task and works it to
        # resolution; a reviewer escalates a case into it from the case page; closing asks about the open
        # case; the post-incident review downloads as Markdown; on-call shows who is on call.
        lead.get("/incidents")
        check(lead.has("#incidents") and lead.has("#oncall-now") and "safety-primary" in lead.find("#oncall-now").text,
              "the incidents page lists incidents and who is on call")
        check("fraud_cases_watch" in lead.find("#automations").text, "and the pack's automations")
        lead.find("#open-incident summary").click()
        lead.find("#open-incident input[name=title]").send_keys("Card testing wave")
        lead.find("#open-incident select[name=severity] option[value=SEV1]").click()
        lead.find("#open-incident input[name=stakeholders][value=legal]").click()
        lead.click("#open-incident button[type=submit]")
        incident_path = lead.path()
        check(re.match(r"/incidents/\d+$", incident_path) is not None and "not acknowledged" in lead.text(),
              f"a lead opens an incident, which waits for acknowledgement ({incident_path})")
        incident_id = incident_path.split("/")[-1]
        _, pages = api(server, f"/v1/pages?subject=incident:{incident_id}")
        check(len(pages.get("pages", [])) == 1, "a SEV1 incident pages the on-call when it opens")
        lead.click("#acknowledge")
        check("acknowledged by user:lead1" in lead.text(), "acknowledging stops the page")
        lead.find("#update-form textarea[name=text]").send_keys("Blocking the BIN range at the processor.")
        lead.click("#update-form button[type=submit]")
        check("Update: Blocking the BIN range" in lead.find("#incident-timeline").text, "a stakeholder update goes on the timeline")
        lead.find("#task-form input[name=title]").send_keys("Lower the card testing threshold")
        lead.find("#task-form input[name=follow_up]").click()
        lead.click("#task-form button[type=submit]")
        check("Lower the card testing threshold" in lead.find("#tasks").text, "tasks and follow-ups are added")
        # An open case (the bulk enforcement above decided its own).
        _, cases = api(server, "/v1/cases?state=open&limit=5")
        linked_case = cases["cases"][0]["id"]
        rev2.get(f"/cases/{linked_case}")
        rev2.find("#incident-escalation summary").click()
        rev2.find(f"#incident-escalation select[name=incident] option[value='{incident_id}']").click()
        rev2.click("#incident-escalation button[type=submit]")
        check(rev2.has(f"#case-incidents a[href='/incidents/{incident_id}']"), "a reviewer links a case to the incident; the case shows it")
        for status in ["mitigating", "monitoring", "resolved"]:
            lead.find(f"#status-form select[name=status] option[value={status}]").click()
            lead.click("#status-form button[type=submit]")
        check(lead.find("#status").text == "resolved" and "not yet" not in lead.find("#times").text,
              "the incident is worked to resolution, every time measured")
        lead.find(f"#status-form select[name=status] option[value=closed]").click()
        lead.click("#status-form button[type=submit]")
        check("open linked cases" in lead.text(), "closing with an open linked case asks what to do with it")
        lead.get(incident_path)
        lead.click("#review-form button[type=submit]")
        check(lead.has("#review-text") and "Time to acknowledge" in lead.find("#review-text").text, "the post-incident review is kept with the incident")
        status, kind, text = lead.fetch(f"{incident_path}/review.md")
        check(status == 200 and kind.startswith("text/markdown") and text.startswith(f"# Post-incident review: incident {incident_id}"),
              "the review downloads as Markdown")
        lead.find("#status-form select[name=status] option[value=closed]").click()
        lead.find("#status-form input[name=open_cases][value=keep]").click()
        lead.click("#status-form button[type=submit]")
        check(f"Incident {incident_id} closed" in lead.text(), "closed, leaving the linked case where it is")
        lead.shot("incident")
        lead.get("/oncall")
        check(lead.has("#schedules") and "safety-primary" in lead.find("#schedules").text and lead.has("#override-form"), "the on-call page")
        lead.shot("oncall")
        rev2.get(incident_path)
        check(not rev2.has("#status-form") and "Card testing wave" in rev2.text(), "reviewers read incidents without controls")

        # Quality: the health of the operation over the decisions made above, per reviewer with intervals,
        # the window switch and the CSV export; reviewers cannot open it.
        lead.get("/quality")
        reviewers = lead.find("#quality-reviewers").text
        check(lead.has("#quality-summary") and "user:rev1" in reviewers and "%" in reviewers and lead.has("#chart-quality-weeks svg"),
              "the quality page shows each reviewer's scorecard with its interval and the weekly chart")
        lead.click("a[href='/quality?days=90']")
        check(lead.find("a[aria-current=page][href='/quality?days=90']") is not None, "the window switches to 90 days")
        status, kind, text = lead.fetch("/quality/scorecards.csv?days=90")
        check(status == 200 and kind.startswith("text/csv") and "reviewer,user:rev1," in text, "the scorecards download as CSV")
        lead.shot("quality")
        rev1.get("/quality")
        check("Not allowed" in rev1.text(), "a reviewer cannot open the quality page")

        # QA: the lead draws an audit of rev1's decisions; rev2 re-reviews one blind and disagrees; rev1
        # disputes the finding; the lead rules for the original; the audit's page counts it right.
        lead.get("/qa")
        lead.find("#qa-draw input[name=name]").send_keys("rev1 spot check")
        lead.find("#qa-draw input[name=reviewer]").send_keys("user:rev1")
        lead.find("#qa-draw select[name=sizing] option[value=size]").click()
        lead.find("#qa-draw input[name=amount]").clear()
        lead.find("#qa-draw input[name=amount]").send_keys("1")
        lead.click("#qa-draw button[type=submit]")
        check(lead.path().startswith("/qa/audits/") and "1 drawn of" in lead.text(), "a lead draws an audit into the QA queue" + ("" if "1 drawn of" in lead.text() else ": " + lead.path() + " " + lead.text()[:600]))
        audit_path = lead.path()
        rev2.get("/qa")
        rev2.click("#qa-next")
        item_path = rev2.path()
        check(item_path.startswith("/qa/items/") and "Blind re-review" in rev2.text() and "user:rev1" not in rev2.text(),
              "the QA reviewer sees the case's content but not the decision or who made it")
        rev2.find("#qa-verdict input[name=violation][value=no]").click()
        rev2.find("#qa-verdict input[name=error][value=false_positive]").click()
        rev2.find("#qa-verdict textarea[name=notes]").send_keys("banter between friends")
        rev2.click("#qa-verdict button[type=submit]")
        check(rev2.has("#qa-comparison") and "by user:rev1" in rev2.find("#qa-comparison").text and "differs" in rev2.text(),
              "after the verdict the original decision is revealed beside it")
        rev2.shot("qa-item")
        rev1.get("/qa")
        check(rev1.has("#qa-findings form[action$='/dispute']"), "the reviewer sees the finding on their decision")
        rev1.find("#qa-findings input[name=reason]").send_keys("the policy names this pile-on pattern")
        rev1.click("#qa-findings form[action$='/dispute'] button")
        check("waits for a lead's ruling" in rev1.text(), "the reviewer disputes it")
        lead.get("/qa")
        check("the policy names this pile-on pattern" in lead.find("#qa-disputes").text, "the lead sees the dispute")
        lead.find("#qa-disputes select[name=stands] option[value=original]").click()
        lead.click("#qa-disputes button[type=submit]")
        lead.get(audit_path)
        check("1 of 1 re-reviewed decisions were right" in lead.text() and lead.has("#qa-reviewers"), "the ruling counts the decision right")
        lead.shot("qa-audit")

        # Golden items, training and certification: the lead imports five golden items for harassment;
        # rev2 trains in the sandbox, sees the key after each answer and is certified; the lead sees it.
        golden = {}
        for n in range(1, 6):
            answer = "none" if n % 2 == 0 else "harassment.bullying"
            text = f"golden {n}: " + ("see you at practice" if n % 2 == 0 else "nobody likes you, just leave")
            golden[text] = answer
            lead.get("/calibration")
            lead.find("#golden-import select[name=queue] option[value=harassment]").click()
            lead.find("#golden-import textarea[name=text]").send_keys(text)
            lead.find(f"#golden-import select[name=answer] option[value='{answer}']").click()
            lead.find("#golden-import textarea[name=explanation]").send_keys(f"reason {n}")
            lead.click("#golden-import button[type=submit]")
        check("golden 5:" in lead.find("#golden").text, "a lead imports golden items on the Calibration page")
        rev2.get("/calibration")
        check("Not certified" in rev2.find("#training").text, "a reviewer sees the queues they can train for")
        rev2.click("#training form[action='/calibration/training'] button")
        run_path = rev2.path()
        check(run_path.startswith("/calibration/sessions/") and "A sandbox" in rev2.text(), "training opens a sandbox run of golden items")
        for n in range(1, 6):
            text = rev2.find(f"#item-{n} p.text").text
            rev2.find(f"#item-{n} select[name=answer] option[value='{golden[text]}']").click()
            rev2.click(f"#item-{n} form.rate button")
            check(f"Item {n}: right." in rev2.text() and golden[text] in rev2.find(f"#item-{n} .key").text,
                  f"training item {n}: the key and its reason appear after the answer")
        check("passed, certified for harassment" in rev2.find("#session-summary").text, "the last answer scores the run and certifies")
        rev2.shot("training")
        lead.get("/calibration")
        check("user:rev2" in lead.find("#certifications").text, "the lead sees the certification")
        check("Mixed into harassment (2.0% of claims)." in lead.text() and lead.has("#golden-checks"),
              "the lead sees where golden items are mixed into live queues and the accuracy on them")

        # A calibration session: two reviewers answer blind; the lead closes it and the report appears.
        lead.find("#new-session input[name=name]").send_keys("Harassment calibration")
        lead.find("#new-session input[name=raters]").send_keys("rev1, rev2")
        lead.find("#new-session input[name=golden]").send_keys("1, 2, 3")
        lead.click("#new-session button[type=submit]")
        session_path = lead.path()
        check(session_path.startswith("/calibration/sessions/"), "a lead opens a calibration session")
        for browser, answers in [(rev1, ["harassment.bullying", "none", "none"]), (rev2, ["harassment.bullying", "none", "harassment.bullying"])]:
            browser.get(session_path)
            for n, answer in enumerate(answers, start=1):
                browser.find(f"#item-{n} select[name=answer] option[value='{answer}']").click()
                browser.click(f"#item-{n} form.rate button")
        check("user:rev2:" not in rev1.find("#session-items").text and "user:rev1:" in rev1.find("#session-items").text, "answers stay hidden from other raters while the session is open")
        lead.get(session_path)
        lead.find("#session-close input[name=outcome]").send_keys("item 3 is bullying")
        lead.click("#session-close button[type=submit]")
        check(lead.has("#session-overall") and "Krippendorff" in lead.find("#session-overall").text and lead.has("#session-raters"),
              "closing reveals every answer and the agreement report")
        rev1.get(session_path)
        rev1.find("#session-note textarea[name=text]").send_keys("I read 3.1 as needing a pattern")
        rev1.find("#session-note input[name=article]").send_keys("harassment-basics")
        rev1.click("#session-note button[type=submit]")
        check("article: harassment-basics" in rev1.find("#session-notes").text and rev1.has("#session-notes a[href='/articles/harassment-basics']"), "the discussion record names the article it changes")
        lead.get(session_path)
        lead.shot("calibration-session")

        # Knowledge articles: rev1 is asked to read the harassment article, reads it and acknowledges it;
        # the lead sees who has read it.
        rev1.get("/articles")
        check(rev1.has("#articles-pending a[href='/articles/harassment-basics']"), "a reviewer is asked to read the articles of their queues")
        rev1.click("#articles-pending a[href='/articles/harassment-basics']")
        check("What counts as harassment" in rev1.find("#article-body h2").text, "an article is rendered from its Markdown")
        rev1.click("#article-acknowledge button")
        check("You read this version" in rev1.find("#article-acknowledged").text, "a reviewer acknowledges the article's version")
        lead.get("/articles/harassment-basics")
        check("read on" in lead.find("#article-readers").text and "user:rev1" in lead.find("#article-readers").text, "the lead sees who has read it")
        lead.shot("article")

        # Sign out ends the session.
        lead.click("form[action='/logout'] button")
        lead.get("/")
        check(lead.path().startswith("/login"), "signing out ends the session")
    finally:
        for browser in browsers:
            try:
                browser.quit()
            except Exception:
                pass
        errors = [f"{b.name}: {e}" for b in browsers for e in b.errors]
        check(not errors, "no errors in the browser's console on any page" + ("" if not errors else ": " + "; ".join(errors[:5])))
        check(server.stop() == 0, "the server stops gracefully")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--artifacts", default=os.path.join(integration.ROOT, ".build", "console-screenshots"))
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="warden-console-")
    started = time.time()
    print("console: the web console in headless Chromium")
    try:
        run(os.path.abspath(args.binary), work, args.artifacts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"console checks: {len(integration.failures)} failures in {time.time() - started:.1f}s; screenshots in {args.artifacts}")
    sys.exit(1 if integration.failures else 0)


if __name__ == "__main__":
    main()
