import Foundation
import Logging
import Testing
import WardenCore
import WardenEngine
import WardenStore
@testable import WardenHTTP

/// `/metrics` and the catalogue agree both ways, every series says what it measures, the sampled
/// values are right, and the shipped Grafana dashboard uses only series the server exports.
@Suite struct OperationsMetricsTests {
    static let dashboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("grafana/warden-dashboard.json")

    /// The exposition text: family → (help, type, samples as label sets with values).
    struct Exposition {
        var help: [String: String] = [:]
        var type: [String: String] = [:]
        var samples: [(series: String, labels: [String: String], value: Double)] = []

        init(_ text: String) {
            for line in text.split(separator: "\n").map(String.init) {
                if line.hasPrefix("# HELP ") {
                    let rest = line.dropFirst(7)
                    let name = rest.prefix { $0 != " " }
                    help[String(name)] = String(rest.dropFirst(name.count + 1))
                } else if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    if parts.count == 4 { type[String(parts[2])] = String(parts[3]) }
                } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
                    let key = line[..<space]
                    let series = String(key.prefix { $0 != "{" })
                    var labels: [String: String] = [:]
                    if let open = key.firstIndex(of: "{") {
                        let inside = key[key.index(after: open)..<(key.lastIndex(of: "}") ?? key.endIndex)]
                        for pair in inside.split(separator: ",") {
                            let kv = pair.split(separator: "=", maxSplits: 1)
                            if kv.count == 2 { labels[String(kv[0])] = String(kv[1].dropFirst().dropLast()) }
                        }
                    }
                    samples.append((series, labels, Double(line[line.index(after: space)...]) ?? .nan))
                }
            }
        }

        func value(_ series: String, _ labels: [String: String]) -> Double? {
            samples.first { sample in sample.series == series && labels.allSatisfy { key, value in sample.labels[key] == value } }?.value
        }
    }

    @Test func everySeriesIsCataloguedWithHelpAndTheDashboardUsesOnlyThem() async throws {
        let harness = try await Harness.make()
        _ = harness.components.backgroundServices()  // every service registers its series
        let metrics = DocumentedMetricsFactory(registry: harness.registry)
        let sampler = OperationsMetrics(store: harness.store, packs: harness.components.packs, clock: Harness.FixedClock(),
                                        logger: Logger(label: "test"), metrics: metrics)
        try await harness.test { client in
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1")).status == .ok)
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m2")).status == .ok)
            try await sampler.sampleConsumers()
            try await sampler.sampleQueues()
            var exposition = Exposition(String(buffer: try await client.get("/metrics", token: nil).body))

            // Nothing consumed yet: two events behind, for as long as the first has waited.
            #expect(exposition.value("warden_consumer_lag_events", ["consumer": "entity_graph"]) == 2)
            #expect(exposition.value("warden_consumer_lag_events", ["consumer": "detection"]) == 2)
            #expect(exposition.value("warden_consumer_lag_events", ["consumer": "case_builder"]) == 0)
            #expect(exposition.value("warden_cases_open", ["queue": "scams", "band": "p1", "state": "open"]) == 0)

            // Both ways: every warden_ family on /metrics is catalogued, with help and the right
            // type and labels; every catalogued series is on /metrics.
            let families = Set(exposition.samples.map(\.series).filter { $0.hasPrefix("warden_") })
            for series in families {
                let metric = try #require(WardenMetric.named(series), "\(series) is not in WardenMetric")
                #expect(exposition.help[metric.rawValue].map { !$0.isEmpty } == true, "\(metric.rawValue) has no help text")
                #expect(exposition.type[metric.rawValue] == metric.kind.rawValue, "\(metric.rawValue) is exported as \(exposition.type[metric.rawValue] ?? "?")")
                for sample in exposition.samples where sample.series == series {
                    #expect(Set(sample.labels.keys).subtracting(["le"]) == Set(metric.labels), "\(series) labels \(sample.labels.keys.sorted())")
                }
            }
            for metric in WardenMetric.allCases {
                #expect(families.contains(metric.kind == .histogram ? metric.rawValue + "_count" : metric.rawValue), "\(metric.rawValue) is not exported")
            }

            // The dashboard: every series it names is exported; every label it groups by is one of them.
            let data = try Data(contentsOf: Self.dashboard)
            let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            var expressions: [String] = []
            for panel in dashboard["panels"] as? [[String: Any]] ?? [] {
                for target in panel["targets"] as? [[String: Any]] ?? [] { expressions.append(target["expr"] as? String ?? "") }
            }
            let templating = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
            expressions += templating.compactMap { $0["definition"] as? String }
            #expect(expressions.count > 15)
            let name = try Regex(#"warden_[a-z_]+"#)
            let grouping = try Regex(#"by \(([a-z_, ]+)\)"#)
            for expression in expressions {
                let names = expression.matches(of: name).map { String(expression[$0.range]) }
                #expect(!names.isEmpty, "\(expression) uses no warden_ series")
                var labels: Set<String> = ["le"]
                for series in names {
                    let metric = WardenMetric.named(series)
                    #expect(metric != nil && families.contains(series), "the dashboard uses \(series), which the server does not export")
                    labels.formUnion(metric?.labels ?? [])
                }
                for match in expression.matches(of: grouping) {
                    guard let list = match.output[1].substring else { continue }
                    for label in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                        #expect(labels.contains(label), "\(expression) groups by \(label), which its series do not have")
                    }
                }
            }

            // Caught up: the lag drops to zero.
            try await EntityIndexer.catchUp(harness.store)
            _ = try await harness.detection.processNext()
            try await sampler.sampleConsumers()
            exposition = Exposition(String(buffer: try await client.get("/metrics", token: nil).body))
            #expect(exposition.value("warden_consumer_lag_events", ["consumer": "entity_graph"]) == 0)
            #expect(exposition.value("warden_consumer_lag_seconds", ["consumer": "entity_graph"]) == 0)
            #expect(exposition.value("warden_consumer_lag_events", ["consumer": "detection"]) == 0)
        }
    }

    /// Queue gauges: waiting cases per band and state, the oldest waiting age, SLA flags, the outbox.
    @Test func queueGaugesFollowTheCases() async throws {
        let harness = try await Harness.make()
        let metrics = DocumentedMetricsFactory(registry: harness.registry)
        let sampler = OperationsMetrics(store: harness.store, packs: harness.components.packs, clock: Harness.FixedClock(),
                                        logger: Logger(label: "test"), metrics: metrics)
        let reviewer = try await harness.token("reviewer", [.casesRead, .casesReview])
        try await harness.test { client in
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m1")).status == .ok)
            #expect(try await client.post("/v1/events", token: harness.writer, body: scamMessage("m2", actor: "other")).status == .ok)
            try await harness.buildCases()
            try await sampler.sampleQueues()
            var exposition = Exposition(String(buffer: try await client.get("/metrics", token: nil).body))
            let waiting = exposition.samples.filter { $0.series == "warden_cases_open" && $0.labels["queue"] == "scams" && $0.labels["state"] == "open" }
            #expect(waiting.reduce(0) { $0 + $1.value } == 2)
            let cases = try await harness.store.cases(queue: "scams", state: .open, assignee: nil, before: nil, limit: 10)
            let band = try #require(cases.first?.band.name)
            let age = Double(Harness.FixedClock().nowMillis() - (cases.map(\.createdAt).min() ?? 0)) / 1000
            #expect(exposition.value("warden_queue_oldest_waiting_seconds", ["queue": "scams", "band": band]) == age)
            #expect(exposition.value("warden_outbox_deliveries", ["state": "pending"]) == 0)

            // One claimed: it moves from open to in_review.
            #expect(try await client.post("/v1/queues/scams/next", token: reviewer.secret, body: "").status == .ok)
            try await sampler.sampleQueues()
            exposition = Exposition(String(buffer: try await client.get("/metrics", token: nil).body))
            let states = exposition.samples.filter { $0.series == "warden_cases_open" && $0.labels["queue"] == "scams" }
            #expect(states.filter { $0.labels["state"] == "open" }.reduce(0) { $0 + $1.value } == 1)
            #expect(states.filter { $0.labels["state"] == "in_review" }.reduce(0) { $0 + $1.value } == 1)
            // Every queue of the pack is there, empty ones at zero.
            #expect(exposition.value("warden_cases_open", ["queue": "appeals", "band": "p1", "state": "open"]) == 0)
            #expect(exposition.value("warden_decisions_total", ["queue": "appeals", "outcome": "overturned"]) == 0)
        }
    }
}
