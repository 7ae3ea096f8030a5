import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import WardenCore
import WardenEngine
import WardenIncidents
import WardenReview
@testable import WardenHTTP

/// The console's incident pages without a browser: a lead opens and works an incident from its
/// page, a reviewer escalates a case into it and sees it on the case, on-call overrides, and an
/// auditor reads without any control that changes something.
@Suite struct IncidentConsoleTests {
    @Test func incidentPagesForLeadsReviewersAndAuditors() async throws {
        let harness = try await Harness.make()
        let users = try #require(harness.components.users)
        _ = try await users.add(name: "lee", role: .lead, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "rev", role: .reviewer, password: ConsoleTests.password, teams: ["trust"], actor: "test")
        _ = try await users.add(name: "aud", role: .auditor, password: ConsoleTests.password, actor: "test")
        let caseID = try #require(try await harness.store.mergeIntoCases([
            CaseInput(kind: .signal, ref: 1, subject: EntityRef(type: "user", id: "carder"), category: "fraud.card_testing", severity: "high",
                      rule: "card_testing_cards", requestedQueue: "scams", at: 1),
        ], signalsThrough: 1, reportsThrough: 0, policy: harness.components.review.policy, now: 1_795_428_000_000).first)
        try await harness.test { client in
            let lead = try await ConsoleTests.signIn(client, "lee")
            func post(_ path: String, _ form: String, as session: (cookie: String, csrf: String)) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: "_csrf=\(session.csrf)&" + form))
            }
            func page(_ path: String, as session: (cookie: String, csrf: String)) async throws -> (HTTPResponse.Status, String) {
                let response = try await client.execute(uri: path, method: .get, headers: [.cookie: session.cookie])
                return (response.status, String(buffer: response.body))
            }
            let (listStatus, list) = try await page("/incidents", as: lead)
            #expect(listStatus == .ok)
            #expect(list.contains("Open an incident") && list.contains("On call now") && list.contains("safety-primary"))
            let opened = try await post("/incidents", "title=Carding+ring&severity=SEV2&commander=lee&stakeholders=legal&stakeholders=policy", as: lead)
            #expect(opened.status == .seeOther)
            #expect(opened.headers[.location] == "/incidents/1")
            for (action, form) in [("update", "text=Blocking+the+BIN+range"), ("role", "role=scribe&person=kim"), ("task", "title=Tighten+the+rule&owner=kim&follow_up=on"),
                                   ("note", "text=seen+before"), ("link", "kind=rule&ref=card_testing_cards"), ("status", "status=mitigating")] {
                let response = try await post("/incidents/1/\(action)", form, as: lead)
                #expect(response.status == .seeOther, "\(action): \(String(buffer: response.body).prefix(300))")
            }
            let (_, incident) = try await page("/incidents/1", as: lead)
            #expect(incident.contains("Carding ring") && incident.contains("mitigating"))
            #expect(incident.contains("Update: Blocking the BIN range") && incident.contains("Tighten the rule") && incident.contains("Legal, Policy"))
            #expect(incident.contains(#"href="/rules/card_testing_cards""#))
            #expect(incident.contains(#"action="/incidents/1/task-done""#))

            // A reviewer escalates a case into the open incident; the case shows it.
            let reviewer = try await ConsoleTests.signIn(client, "rev")
            let escalated = try await post("/cases/\(caseID)/incident", "incident=1", as: reviewer)
            #expect(escalated.status == .seeOther && escalated.headers[.location] == "/cases/\(caseID)")
            let (_, casePage) = try await page("/cases/\(caseID)", as: reviewer)
            #expect(casePage.contains(#"<a href="/incidents/1" class="sev sev-SEV2">1 SEV2 mitigating</a>"#))
            // Reviewers see incidents but cannot change them.
            #expect(try await post("/incidents/1/note", "text=hi", as: reviewer).status == .forbidden)

            // Closing with the case still open asks what to do with it.
            #expect(try await post("/incidents/1/status", "status=resolved", as: lead).status == .seeOther)
            let asked = try await post("/incidents/1/status", "status=closed", as: lead)
            #expect(asked.status == .conflict)
            #expect(String(buffer: asked.body).contains("open linked cases (\(caseID))"))
            #expect(try await post("/incidents/1/review", "markdown=", as: lead).status == .seeOther)
            #expect(try await post("/incidents/1/status", "status=closed&open_cases=keep", as: lead).status == .seeOther)
            let review = try await client.execute(uri: "/incidents/1/review.md", method: .get, headers: [.cookie: lead.cookie])
            #expect(review.headers[.contentType] == "text/markdown; charset=utf-8")
            #expect(String(buffer: review.body).hasPrefix("# Post-incident review: incident 1 — Carding ring"))

            // On-call overrides from the console.
            let added = try await post("/oncall/overrides", "schedule=safety-primary&person=zoe&starts=2026-11-23T00:00&ends=2026-11-30T00:00", as: lead)
            #expect(added.status == .seeOther)
            let (_, onCall) = try await page("/oncall", as: lead)
            #expect(onCall.contains("<strong>zoe</strong>"))

            // The auditor reads every page and gets no control that changes something.
            let auditor = try await ConsoleTests.signIn(client, "aud")
            for path in ["/incidents", "/incidents/1", "/oncall"] {
                let (status, html) = try await page(path, as: auditor)
                #expect(status == .ok, "\(path)")
                #expect(!html.contains(#"method="post" action="/incidents"#) && !html.contains(#"action="/oncall/overrides""#), "\(path)")
            }
        }
    }
}
