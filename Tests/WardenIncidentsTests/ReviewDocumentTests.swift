import Foundation
import Testing
import WardenCore
@testable import WardenIncidents

@Suite struct PostIncidentReviewTests {
    @Test func theReviewStatesTheTimesAgainstTargetsTheTimelineAndWhatFired() throws {
        var record = Fixture.incident()
        record.acknowledgedAt = Fixture.now + 4 * 60_000
        record.mitigatedAt = Fixture.now + 9 * 3_600_000
        record.resolvedAt = Fixture.now + 10 * 3_600_000
        record.status = .resolved
        record.summary = "A card testing wave | from one IP."
        let timeline = [
            IncidentTimelineEntry(id: 1, incidentID: 4, at: Fixture.now, actor: "system:alerts", kind: .opened, detail: #"{"title":"Card testing wave","severity":"SEV1","source":"alert","source_ref":"alert:3"}"#),
            IncidentTimelineEntry(id: 2, incidentID: 4, at: Fixture.now + 60_000, actor: "system:pager", kind: .page, detail: #"{"person":"ana","policy":"safety","step":1}"#),
            IncidentTimelineEntry(id: 3, incidentID: 4, at: Fixture.now + 4 * 60_000, actor: "user:ana", kind: .acknowledged, detail: "{}"),
        ]
        var alert = AlertRecord(id: 3, rule: "fraud_spike", key: "fraud.card_testing", series: .signalsByCategory, firstFiredAt: Fixture.now - 120_000,
                                lastFiredAt: Fixture.now, value: 40, baseline: 2, score: 27)
        alert.peak = 52
        let facts = ReviewFacts(cases: [.init(id: 12, subject: "user:carder", queue: "fraud", state: "resolved", decision: "violation: fraud.card_testing")],
                                actions: [.init(subject: "user:carder", action: "ban", at: Fixture.now)], alerts: [alert],
                                rules: [.init(rule: "card_testing", signals: 45), .init(rule: "velocity_cards", signals: 0)])
        let task = IncidentTask(id: 1, incidentID: 4, title: "Lower the card_testing threshold", owner: "kim", dueAt: nil, followUp: true, createdAt: Fixture.now, createdBy: "user:ana")
        let text = PostIncidentReview.markdown(record, severity: Fixture.settings.severity("SEV1"), timeline: timeline, links: [], tasks: [task],
                                               facts: facts, stakeholders: IncidentSettings.standard.stakeholders)
        #expect(text.hasPrefix("# Post-incident review: incident 4 — Card testing wave"))
        #expect(text.contains("| Time to detect | 2026-05-28T20:24:40Z | 2026-05-28T20:26:40Z | 2m | — |"))
        #expect(text.contains("| Time to acknowledge | 2026-05-28T20:26:40Z | 2026-05-28T20:30:40Z | 4m | 15m (met) |"))
        #expect(text.contains("| Time to mitigate | 2026-05-28T20:26:40Z | 2026-05-29T05:26:40Z | 9h | 8h (missed) |"))
        #expect(text.contains("| 2026-05-28T20:27:40Z | system:pager | Paged ana (safety, step 1) |"))
        #expect(text.contains("Opened at SEV1: Card testing wave (from alert:3)"))
        #expect(text.contains("A card testing wave | from one IP."))
        #expect(text.contains("| 12 | user:carder | fraud | resolved | violation: fraud.card_testing |"))
        #expect(text.contains("Enforcement on the linked cases: 1 × ban."))
        #expect(text.contains("Alert 3 `fraud_spike` on signals_by_category `fraud.card_testing` first fired 2026-05-28T20:24:40Z, peak 52 against a baseline of 2."))
        #expect(text.contains("Rule `velocity_cards` did **not** fire during the incident."))
        #expect(text.contains("- [ ] **Follow-up:** Lower the card_testing threshold — kim"))
    }
}
