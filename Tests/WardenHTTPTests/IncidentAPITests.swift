import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenCore
import WardenEngine
import WardenIncidents
import WardenReview
import WardenStore
@testable import WardenHTTP

/// The incidents API: opening, working, escalating from cases and alerts, closing with open cases,
/// on-call overrides, refusals that say what and where and change nothing.
@Suite struct IncidentAPITests {
    func makeCases(_ harness: Harness, count: Int) async throws -> [Int64] {
        try await harness.store.mergeIntoCases((1...count).map {
            CaseInput(kind: .signal, ref: Int64($0), subject: EntityRef(type: "user", id: "carder\($0)"), category: "fraud.card_testing", severity: "high",
                      rule: "card_testing_cards", requestedQueue: "scams", at: 1)
        }, signalsThrough: Int64(count), reportsThrough: 0, policy: harness.components.review.policy, now: 1_795_428_000_000)
    }

    @Test func openWorkAndReadAnIncident() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let opened = try await client.post("/v1/incidents", token: harness.admin, body: """
                {"title":"Card testing wave","severity":"SEV1","commander":"lee","stakeholders":["legal","policy"],"links":[{"kind":"entity","ref":"ip:192.0.2.1"},{"kind":"rule","ref":"card_testing_cards"}]}
                """)
            #expect(opened.status == .created)
            let id = try #require(opened.json["id"] as? Int)
            #expect(opened.json["status"] as? String == "investigating")
            #expect((opened.json["roles"] as? [String: Any])?["commander"] as? String == "lee")
            #expect((opened.json["links"] as? [[String: Any]])?.count == 2)
            // SEV1 pages on open in the example pack.
            let pages = try await harness.components.incidents.store.pages(subject: "incident:\(id)", openOnly: true, limit: 5)
            #expect(pages.map(\.policy) == ["trust-safety"])

            for (path, body) in [
                ("roles", #"{"role":"scribe","person":"kim"}"#), ("participants", #"{"name":"max","change":"add"}"#),
                ("stakeholders", #"{"name":"engineering","change":"add"}"#), ("notes", #"{"text":"the processor sees the same BIN range"}"#),
                ("updates", #"{"text":"Blocking the BIN range; next update in an hour."}"#), ("severity", #"{"severity":"SEV0","reason":"spreading"}"#),
                ("edit", #"{"summary":"Cards tested from one IP range."}"#), ("acknowledge", ""),
            ] {
                let response = try await client.post("/v1/incidents/\(id)/\(path)", token: harness.admin, body: body)
                #expect(response.status == .ok, "\(path): \(String(buffer: response.body))")
            }
            let task = try await client.post("/v1/incidents/\(id)/tasks", token: harness.admin,
                                             body: #"{"title":"Lower the card_testing threshold","owner":"kim","due_at":"2026-12-01T09:00:00Z","follow_up":true}"#)
            #expect(task.status == .created)
            let taskID = try #require((task.json["tasks"] as? [[String: Any]])?.first?["id"] as? Int)
            #expect(try await client.post("/v1/incidents/\(id)/tasks/\(taskID)/change", token: harness.admin, body: #"{"change":"rule:card_testing_cards@3f2a"}"#).status == .ok)
            #expect(try await client.post("/v1/incidents/\(id)/tasks/\(taskID)/done", token: harness.admin, body: "").status == .ok)

            let shown = try await client.get("/v1/incidents/\(id)", token: harness.admin)
            #expect(shown.json["severity"] as? String == "SEV0")
            #expect(shown.json["participants"] as? [String] == ["lee", "kim", "max"])
            #expect(shown.json["stakeholders"] as? [String] == ["legal", "policy", "engineering"])
            #expect(shown.json["last_update_at"] != nil)
            let kinds = (shown.json["timeline"] as? [[String: Any]])?.compactMap { $0["kind"] as? String } ?? []
            #expect(kinds.starts(with: ["opened", "link", "link"]))
            #expect(kinds.contains("update") && kinds.contains("acknowledged") && kinds.contains("severity"))
            // Acknowledging stopped the page; the update went to the chat channel through the outbox.
            #expect(try await harness.components.incidents.store.pages(subject: "incident:\(id)", openOnly: true, limit: 5).isEmpty)
            let outbox = try await harness.store.outbox(state: .pending, limit: 100)
            #expect(outbox.contains { $0.destination == "safety-chat" && $0.topic == "incident.update" && $0.body.contains("Blocking the BIN range") })

            // Every change is audited.
            let audit = try await harness.store.auditEntries(before: nil, actor: nil, action: "incident.", target: "incident:\(id)", limit: 100)
            #expect(Set(audit.map(\.action)).isSuperset(of: ["incident.open", "incident.role", "incident.update", "incident.severity", "incident.acknowledge", "incident.task"]))

            let list = try await client.get("/v1/incidents?open=true", token: harness.admin)
            #expect((list.json["incidents"] as? [[String: Any]])?.first?["id"] as? Int == id)
            #expect((list.json["incidents"] as? [[String: Any]])?.first?["timeline"] == nil)
        }
    }

    /// Refusals name what is wrong and change nothing.
    @Test func refusals() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let id = try #require(try await client.post("/v1/incidents", token: harness.admin, body: #"{"title":"t","severity":"SEV3"}"#).json["id"] as? Int)
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                ("/v1/incidents", #"{"title":"t","severity":"SEV9"}"#, .unprocessableContent, "severity \"SEV9\" is not defined"),
                ("/v1/incidents", #"{"title":"  ","severity":"SEV1"}"#, .unprocessableContent, "title: must not be empty"),
                ("/v1/incidents", #"{"title":"t","severity":"SEV1","links":[{"kind":"case","ref":"77"}]}"#, .unprocessableContent, "there is no such case"),
                ("/v1/incidents", #"{"title":"t","severity":"SEV1","colour":"red"}"#, .unprocessableContent, "colour: is not a member"),
                ("/v1/incidents/\(id)/status", #"{"status":"closed"}"#, .conflict, "cannot become closed"),
                ("/v1/incidents/\(id)/review", "", .conflict, "resolve it before keeping its review"),
                ("/v1/incidents/\(id)/participants", #"{"name":"nobody","change":"remove"}"#, .conflict, "nobody does not take part"),
                ("/v1/incidents/\(id)/tasks/5/done", "", .notFound, "has no task 5"),
                ("/v1/incidents/999/notes", #"{"text":"x"}"#, .notFound, "there is no incident 999"),
                ("/v1/incidents/\(id)/unlink", #"{"kind":"rule","ref":"x"}"#, .conflict, "rule:x is not linked"),
                ("/v1/alerts/5/acknowledge", "", .notFound, "there is no alert 5"),
                ("/v1/oncall/overrides", #"{"schedule":"nope","person":"a","starts_at":"2026-12-01T00:00:00Z","ends_at":"2026-12-02T00:00:00Z"}"#,
                 .unprocessableContent, "not a schedule"),
                ("/v1/oncall/overrides", #"{"schedule":"safety-primary","person":"a","starts_at":"2026-12-02T00:00:00Z","ends_at":"2026-12-01T00:00:00Z"}"#,
                 .unprocessableContent, "must be after starts_at"),
                ("/v1/cases/1/incident", #"{"severity":"SEV1","incident_id":3}"#, .unprocessableContent, "give incident_id"),
            ]
            let before = try await harness.store.auditEntries(before: nil, actor: nil, action: nil, target: nil, limit: 1000).count
            for (path, body, status, message) in cases {
                let response = try await client.post(path, token: harness.admin, body: body)
                #expect(response.status == status, "\(path) \(body): \(response.status.code)")
                #expect((response.json["detail"] as? String)?.contains(message) == true, "\(path): \(response.json["detail"] ?? "")")
            }
            #expect(try await harness.store.auditEntries(before: nil, actor: nil, action: nil, target: nil, limit: 1000).count == before)
            #expect(try await harness.components.incidents.store.incidents(status: nil, openOnly: false, before: nil, limit: 10).count == 1)
        }
    }

    @Test func casesEscalateIntoIncidentsAndClosingAsksAboutOpenCases() async throws {
        let harness = try await Harness.make()
        let caseIDs = try await makeCases(harness, count: 3)
        try await harness.test { client in
            let escalated = try await client.post("/v1/cases/\(caseIDs[0])/incident", token: harness.admin, body: #"{"severity":"SEV2","title":"Carding ring"}"#)
            #expect(escalated.status == .created)
            let id = try #require(escalated.json["id"] as? Int)
            #expect(escalated.json["source"] as? String == "case")
            #expect(escalated.json["source_ref"] as? String == "case:\(caseIDs[0])")
            let linked = try await client.post("/v1/cases/\(caseIDs[1])/incident", token: harness.admin, body: #"{"incident_id":\#(id)}"#)
            #expect(linked.status == .created)
            #expect(try await client.post("/v1/incidents/\(id)/links", token: harness.admin, body: #"{"kind":"case","ref":"\#(caseIDs[2])"}"#).status == .ok)
            // The case knows its incidents.
            let incidentsOfCase = try await harness.components.incidents.store.incidents(linkedTo: IncidentLink(.case, String(caseIDs[1])))
            #expect(incidentsOfCase.map(\.id) == [Int64(id)])
            // One case is being worked: it stays with its reviewer when the others move.
            _ = try await harness.components.review.claim(caseID: caseIDs[2], reviewer: "user:ana")
            #expect(try await client.post("/v1/incidents/\(id)/status", token: harness.admin, body: #"{"status":"resolved"}"#).status == .ok)
            let asked = try await client.post("/v1/incidents/\(id)/status", token: harness.admin, body: #"{"status":"closed"}"#)
            #expect(asked.status == .conflict)
            #expect((asked.json["detail"] as? String)?.contains("open linked cases (\(caseIDs[0]), \(caseIDs[1]), \(caseIDs[2]))") == true)
            #expect(try await harness.components.incidents.store.incident(id: Int64(id))?.status == .resolved)
            let closed = try await client.post("/v1/incidents/\(id)/status", token: harness.admin,
                                               body: #"{"status":"closed","open_cases":"move","queue":"urgent","reason":"the ring is stopped"}"#)
            #expect(closed.status == .ok)
            #expect(closed.json["moved_cases"] as? [Int] == [Int(caseIDs[0]), Int(caseIDs[1])])
            #expect(closed.json["kept_cases"] as? [Int] == [Int(caseIDs[2])])
            #expect((closed.json["incident"] as? [String: Any])?["status"] as? String == "closed")
            let moved = try #require(try await harness.store.caseRecord(id: caseIDs[0]))
            #expect(moved.queue == "urgent" && moved.state == .escalated)
            #expect(moved.escalationReason == "incident \(id) closed: the ring is stopped")
        }
    }

    @Test func alertsAreAcknowledgedSnoozedResolvedAndOpenIncidents() async throws {
        let clock = MovableClock()
        let harness = try await Harness.make(clock: clock)
        let store = harness.components.incidents.store
        let minute = clock.nowMillis() / 60_000
        // A rule on SLA breaches over a window, fed a real series: the store counts what it is given.
        let rule = AlertRule(name: "breaches", series: .slaBreaches, windowMinutes: 30, above: 2, page: "trust-safety")
        try await harness.store.seedSeries([SeriesCount(minute: minute - 1, key: "fraud", count: 5), SeriesCount(minute: minute - 90, key: "events", count: 1)])
        let opened = try await store.evaluateAlerts([rule], minute: minute - 1, settings: harness.components.incidents.pack.settings, now: clock.nowMillis())
        let alert = try #require(opened.first)
        #expect(alert.key == "fraud" && alert.value == 5 && alert.incidentID == nil)
        #expect(try await store.pages(subject: "alert:\(alert.id)", openOnly: true, limit: 1).count == 1)
        // Evaluating again the same minute deduplicates into the same alert.
        #expect(try await store.evaluateAlerts([rule], minute: minute - 1, settings: harness.components.incidents.pack.settings, now: clock.nowMillis()).isEmpty)
        #expect(try await store.alerts(openOnly: true, rule: "breaches", limit: 10).first?.firings == 2)
        try await harness.test { client in
            let snoozed = try await client.post("/v1/alerts/\(alert.id)/snooze", token: harness.admin, body: #"{"minutes":30}"#)
            #expect(snoozed.json["state"] as? String == "snoozed")
            let acknowledged = try await client.post("/v1/alerts/\(alert.id)/acknowledge", token: harness.admin, body: "")
            #expect(acknowledged.json["state"] as? String == "acknowledged")
            #expect(try await store.pages(subject: "alert:\(alert.id)", openOnly: true, limit: 1).isEmpty)
            let incident = try await client.post("/v1/alerts/\(alert.id)/incident", token: harness.admin, body: #"{"severity":"SEV3"}"#)
            #expect(incident.status == .created)
            #expect(incident.json["source_ref"] as? String == "alert:\(alert.id)")
            #expect(try await client.post("/v1/alerts/\(alert.id)/incident", token: harness.admin, body: #"{"severity":"SEV3"}"#).status == .conflict)
            #expect(try await client.post("/v1/alerts/\(alert.id)/resolve", token: harness.admin, body: "").json["state"] as? String == "resolved")
            #expect(try await client.post("/v1/alerts/\(alert.id)/resolve", token: harness.admin, body: "").status == .conflict)
            let listed = try await client.get("/v1/alerts?open=false", token: harness.admin)
            #expect((listed.json["alerts"] as? [[String: Any]])?.first?["incident_id"] as? Int == incident.json["id"] as? Int)
            let metrics = try await client.get("/v1/incidents/metrics?days=7", token: harness.admin)
            #expect(metrics.json["alerts"] as? Int == 1 && metrics.json["alerts_with_incident"] as? Int == 1)
            let rules = try await client.get("/v1/alert-rules", token: harness.admin)
            #expect((rules.json["rules"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.contains("signal_spike") == true)
        }
    }

    @Test func onCallWithOverrides() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let now = Harness.FixedClock().nowMillis()
            let before = try await client.get("/v1/oncall", token: harness.admin)
            let schedules = try #require(before.json["schedules"] as? [[String: Any]])
            let primary = try #require(schedules.first { $0["name"] as? String == "safety-primary" })
            #expect(["demo-reviewer", "demo-reviewer-2"].contains(primary["on_call"] as? String ?? ""))
            let created = try await client.post("/v1/oncall/overrides", token: harness.admin, body: """
                {"schedule":"safety-primary","person":"zoe","starts_at":"\(Timestamp.formatRFC3339(now - 60_000))","ends_at":"\(Timestamp.formatRFC3339(now + 3_600_000))"}
                """)
            #expect(created.status == .created)
            let after = try await client.get("/v1/oncall", token: harness.admin)
            #expect((after.json["schedules"] as? [[String: Any]])?.first { $0["name"] as? String == "safety-primary" }?["on_call"] as? String == "zoe")
            let overrideID = try #require(created.json["id"] as? Int)
            #expect(try await client.execute(uri: "/v1/oncall/overrides/\(overrideID)", method: .delete, headers: [.authorization: "Bearer \(harness.admin)"]).status == .noContent)
            #expect(try await client.execute(uri: "/v1/oncall/overrides/\(overrideID)", method: .delete, headers: [.authorization: "Bearer \(harness.admin)"]).status == .notFound)
        }
    }

    @Test func thePackRefusesBrokenIncidentFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Harness.packDirectory, toPath: directory.path)
        try """
            alerts:
              - name: spike
                series: signals_by_vibe
                window: 10m
                above: 5
              - name: spike2
                series: reports
                window: 90s
                anomaly: {season: 2d}
                incident: SEV7
                page: nobody
            """.write(to: directory.appendingPathComponent("alerts.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try PolicyPack.load(from: directory.path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("alerts.yaml alerts[0].series: \"signals_by_vibe\" is not a series")
                && text.contains("alerts.yaml alerts[1].window: a window is whole minutes, from 1m to 24h")
                && text.contains("alerts.yaml alerts[1].anomaly.season: a season is 1d")
                && text.contains("alerts.yaml alerts[1].incident: severity \"SEV7\" is not defined")
                && text.contains("alerts.yaml alerts[1].page: escalation policy \"nobody\" is not defined in oncall.yaml")
        }
    }
}

extension WardenStorage {
    /// Puts counts straight into the alert series (tests of evaluation over known series): `events`
    /// counts start the history, the others go to `series`.
    func seedSeries(_ counts: [SeriesCount], series: AlertSeries = .slaBreaches) async throws {
        try await addSeriesCounts(.events, counts.filter { $0.key == "events" })
        try await addSeriesCounts(series, counts.filter { $0.key != "events" })
    }
}
