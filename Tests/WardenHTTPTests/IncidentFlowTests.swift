import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import WardenCore
import WardenEngine
import WardenIncidents
import WardenSimulation
import WardenStore
@testable import WardenHTTP

/// From a spike to a reviewed incident, end to end in one process: simulated traffic with a card
/// testing campaign goes through intake and detection on a clock the test moves minute by minute;
/// the series consumer counts it, the pack's `signal_spike` anomaly alert fires and opens a SEV2
/// incident, the on-call is paged through the outbox to a local HTTP receiver (signatures checked),
/// the page escalates to the secondary when nobody acknowledges in ten minutes, the incident is
/// acknowledged, mitigated and resolved, and the post-incident review states times that match the
/// timeline.
@Suite struct IncidentFlowTests {
    @Test func aCampaignBecomesAPagedTrackedReviewedIncident() async throws {
        let start: Int64 = 1_795_428_000_000 - 1_795_428_000_000 % 3_600_000
        let clock = MovableClock(start)
        let harness = try await Harness.make(clock: clock)
        let options = {
            var options = SimulationOptions(start: start)
            options.rate = 2
            options.users = 400
            options.cycleMillis = 3 * 3_600_000
            options.campaigns = [.cardTesting]
            return options
        }()
        let campaignStart = start + Int64(0.55 * Double(options.cycleMillis))
        let pack = harness.components.packs.pack.incidents
        let incidents = harness.components.incidents
        let receiver = WebhookReceiver(clock: clock)
        try await receiver.run { url in
            let deliverer = OutboxDeliverer(store: harness.store, settings: { WebhookSettings(url: nil, secret: nil) }, clock: clock, logger: Logger(label: "test"))
            var settings = WebhookSettings(url: url, secret: receiver.secret)
            settings.baseDelay = 10
            let channel = settings
            var simulator = Simulator(options: options)
            let clockService = IncidentClock(incidents: incidents, logger: Logger(label: "test"))
            var pending = simulator.next()!
            var evaluated: Int64 = 0
            var incidentID: Int64?
            var minute = start / 60_000
            // Minute by minute until the alert has opened an incident (at most 40 minutes into the campaign).
            while incidentID == nil, minute * 60_000 < campaignStart + 40 * 60_000 {
                var lines: [String] = []
                while pending.occurredAt < (minute + 1) * 60_000 {
                    lines.append(String(decoding: pending.json, as: UTF8.self))
                    pending = simulator.next()!
                }
                clock.advance((minute + 1) * 60_000 - clock.nowMillis())
                if !lines.isEmpty {
                    let result = try await harness.components.intake.submit(Array(lines.joined(separator: "\n").utf8), format: .ndjson)
                    #expect(result.rejected == 0)
                }
                while try await harness.detection.processNext() > 0 {}
                evaluated = try await clockService.tick(lastEvaluated: evaluated)
                incidentID = try await incidents.store.incidents(status: nil, openOnly: true, before: nil, limit: 1).first?.id
                minute += 1
            }
            let id = try #require(incidentID, "the signal_spike alert opened no incident during the campaign")
            let lastEvaluated = evaluated
            let opened = try #require(try await incidents.store.incident(id: id))
            #expect(opened.severity == "SEV2")
            #expect(opened.source == .alert)
            #expect(opened.title.hasPrefix("signal_spike: fraud.card_testing"))
            #expect(opened.createdAt - campaignStart < 10 * 60_000, "alerted \((opened.createdAt - campaignStart) / 1000) s after the campaign began")
            #expect(opened.detectedAt >= campaignStart - 60_000 && opened.detectedAt <= opened.createdAt)
            let alert = try #require(try await incidents.store.alerts(openOnly: true, rule: "signal_spike", limit: 10).first { $0.incidentID == id })
            #expect(alert.key == "fraud.card_testing")

            // The page went to whoever is on call on the primary schedule, through the outbox.
            let primary = try #require(pack.schedules["safety-primary"]?.onCall(at: clock.nowMillis(), overrides: []))
            #expect(try await deliverer.deliverDue(channel, destination: "oncall-webhook") == 1)
            #expect(receiver.received.count == 1)
            #expect(receiver.badSignatures == 0)
            let first = try #require(receiver.received.first)
            #expect(first.topic == "page")
            #expect((first.body["data"] as? [String: Any])?["person"] as? String == primary)
            #expect((first.body["data"] as? [String: Any])?["subject"] as? String == "incident:\(id)")

            // Nobody acknowledges: ten minutes later the secondary is paged.
            clock.advance(9 * 60_000)
            _ = try await clockService.tick(lastEvaluated: lastEvaluated)
            #expect(try await deliverer.deliverDue(channel, destination: "oncall-webhook") == 0)
            clock.advance(60_000)
            _ = try await clockService.tick(lastEvaluated: lastEvaluated)
            #expect(try await deliverer.deliverDue(channel, destination: "oncall-webhook") == 1)
            #expect((receiver.received.last?.body["data"] as? [String: Any])?["person"] as? String == "demo-lead")
            let page = try #require(try await incidents.store.pages(subject: "incident:\(id)", openOnly: true, limit: 1).first)
            #expect(page.paged == [primary, "demo-lead"])

            try await harness.test { client in
                let token = harness.admin
                clock.advance(3 * 60_000)
                let acknowledged = try await client.post("/v1/incidents/\(id)/acknowledge", token: token, body: "")
                #expect(acknowledged.status == .ok)
                #expect(try await incidents.store.pages(subject: "incident:\(id)", openOnly: true, limit: 1).isEmpty)
                // PagerDuty hears the acknowledgement on the same dedup key (delivered once its key is set).
                let pagerDuty = try await harness.store.outbox(state: .pending, limit: 100).filter { $0.destination == "pagerduty" }
                #expect(pagerDuty.contains { $0.body.contains(#""event_action":"acknowledge""#) && $0.body.contains(#""dedup_key":"warden:incident:\#(id)""#) })
                // Escalation has stopped: nothing more is paged however long nobody else answers.
                clock.advance(30 * 60_000)
                _ = try await clockService.tick(lastEvaluated: lastEvaluated)
                #expect(try await deliverer.deliverDue(channel, destination: "oncall-webhook") == 1)  // the acknowledgement itself
                #expect(receiver.received.last?.topic == "page.acknowledge")

                for status in ["identified", "mitigating", "monitoring"] {
                    clock.advance(5 * 60_000)
                    let moved = try await client.post("/v1/incidents/\(id)/status", token: token, body: #"{"status":"\#(status)"}"#)
                    #expect(moved.status == .ok, "\(status): \(String(buffer: moved.body))")
                }
                clock.advance(20 * 60_000)
                #expect(try await client.post("/v1/incidents/\(id)/status", token: token, body: #"{"status":"resolved"}"#).status == .ok)
                let resolved = try #require(try await incidents.store.incident(id: id))
                let review = try await client.get("/v1/incidents/\(id)/review", token: token)
                #expect(review.status == .ok)
                #expect(review.headers[.contentType] == "text/markdown; charset=utf-8")
                let text = String(buffer: review.body)
                func span(_ millis: Int64) -> String { DurationText.format(millis / 1000 * 1000) }
                let timeline = try await incidents.store.incidentTimeline(id: id)
                let ackEntry = try #require(timeline.first { $0.kind == .acknowledged })
                let mitigated = try #require(timeline.first { $0.kind == .status && $0.detail.contains(#""to":"monitoring""#) })
                let resolvedEntry = try #require(timeline.last { $0.kind == .status && $0.detail.contains(#""to":"resolved""#) })
                #expect(ackEntry.at == resolved.acknowledgedAt && mitigated.at == resolved.mitigatedAt && resolvedEntry.at == resolved.resolvedAt)
                #expect(text.contains("| Time to acknowledge | \(Timestamp.formatRFC3339(resolved.createdAt)) | \(Timestamp.formatRFC3339(ackEntry.at)) | \(span(ackEntry.at - resolved.createdAt)) | 1h (met) |"))
                #expect(text.contains("| Time to mitigate | \(Timestamp.formatRFC3339(resolved.createdAt)) | \(Timestamp.formatRFC3339(mitigated.at)) | \(span(mitigated.at - resolved.createdAt)) | \(DurationText.format(24 * 3_600_000)) (met) |"))
                #expect(text.contains("| Time to resolve | \(Timestamp.formatRFC3339(resolved.createdAt)) | \(Timestamp.formatRFC3339(resolvedEntry.at)) | \(span(resolvedEntry.at - resolved.createdAt)) | — |"))
                #expect(text.contains("| Time to detect | \(Timestamp.formatRFC3339(resolved.detectedAt)) | \(Timestamp.formatRFC3339(resolved.createdAt)) |"))
                #expect(text.contains("Alert \(alert.id) `signal_spike` on signals_by_category `fraud.card_testing`"))
                #expect(text.contains("Paged \(primary) (trust-safety, step 1)"))
                #expect(text.contains("Paged demo-lead (trust-safety, step 2)"))
                // Kept with the incident, then closed.
                #expect(try await client.post("/v1/incidents/\(id)/review", token: token, body: "").status == .ok)
                #expect(try await incidents.store.incident(id: id)?.review == text)
                #expect(try await client.post("/v1/incidents/\(id)/status", token: token, body: #"{"status":"closed"}"#).status == .ok)
            }
        }
    }
}
