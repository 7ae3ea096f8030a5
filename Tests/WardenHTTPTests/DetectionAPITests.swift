import Foundation
import Synchronization
import HummingbirdTesting
import Testing
import WardenCore
import WardenStore
import WardenEngine
import WardenRules
import Logging
@testable import WardenHTTP

func signup(_ index: Int, ip: String = "198.51.100.7") -> String {
    let time = Timestamp.formatRFC3339(1_795_428_000_000 - 3_600_000 + Int64(index) * 10_000)
    return #"{"id":"su\#(index)","type":"account.created","occurred_at":"\#(time)","actor":{"type":"user","id":"farm\#(index)"},"entities":{"ip":"\#(ip)","device":"dev\#(index)"}}"#
}

@Suite struct DetectionAPITests {
    @Test func detectionRaisesSignalsLabelsAndHitCountsExactlyOnce() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let body = (0..<12).map { signup($0) }.joined(separator: "\n")
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: body)
            #expect(try await harness.detection.processNext() == 12)
            #expect(try await harness.detection.processNext() == 0)

            let signals = try await client.get("/v1/signals?rule=signup_farm_ip", token: harness.reader)
            let list = signals.json["signals"] as? [[String: Any]] ?? []
            // More than ten sign-ups: the 11th and 12th fire, newest first.
            #expect(list.compactMap { $0["subject"] as? String } == ["user:farm11", "user:farm10"])
            #expect(list.first?["verdict"] as? String == "challenge")
            #expect((list.last?["explanation"] as? String)?.contains("count = 11") == true)

            // The 11th sign-up labelled the IP, so the 12th also hits the flagged-IP rule.
            let flagged = try await client.get("/v1/signals?rule=signup_from_flagged_ip", token: harness.reader)
            #expect((flagged.json["signals"] as? [[String: Any]])?.compactMap { $0["subject"] as? String } == ["user:farm11"])

            let rules = try await client.get("/v1/rules", token: harness.reader)
            let farm = (rules.json["rules"] as? [[String: Any]])?.first { $0["name"] as? String == "signup_farm_ip" }
            #expect(farm?["hits_24h"] as? Int == 2)
            #expect(farm?["mode"] as? String == "active")

            let ip = try await client.get("/v1/entities/ip/198.51.100.7", token: harness.reader)
            let labels = (ip.json["labels"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(labels == ["signup_farm"])
        }
    }

    @Test func reportsReachDetection() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            for reporter in ["r1", "r2", "r3"] {
                let report = #"{"reporter":{"type":"user","id":"\#(reporter)"},"subject":{"type":"user","id":"bully"},"reason":"harassment.bullying"}"#
                #expect(try await client.post("/v1/reports", token: harness.admin, body: report).status == .ok)
            }
            #expect(try await harness.detection.processNext() == 3)
            let signals = try await harness.store.signals(before: nil, limit: 10, subject: EntityRef(type: "user", id: "bully"), rule: nil)
            #expect(signals.map(\.rule) == ["reported_by_many"])
            #expect(signals.first?.queue == "harassment")
        }
    }

    @Test func evaluateAnswersTheVerdictWithoutChangingState() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (0..<10).map { signup($0) }.joined(separator: "\n"))
            try await harness.detection.processNext()
            for _ in 0..<2 {
                let dry = try await client.post("/v1/evaluate", token: harness.writer, body: signup(10))
                #expect(dry.status == .ok)
                #expect(dry.json["verdict"] as? String == "challenge")
                let hits = (dry.json["hits"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
                #expect(hits.contains("signup_farm_ip"))
            }
            #expect(try await harness.store.event(id: "su10") == nil)
            let ordinary = try await client.post("/v1/evaluate", token: harness.writer, body: signup(50, ip: "203.0.113.99"))
            #expect(ordinary.json["verdict"] as? String == "allow")
            let stored = try await client.post("/v1/evaluate?ingest=true", token: harness.writer, body: signup(10))
            #expect((stored.json["ingested"] as? [String: Any])?["status"] as? String == "accepted")
            #expect(try await harness.store.event(id: "su10") != nil)
            let invalid = try await client.post("/v1/evaluate", token: harness.writer, body: #"{"id":"x"}"#)
            #expect(invalid.status == .unprocessableContent)
        }
    }

    /// A detection store whose next commit fails, as a full disk would make it.
    final class FailingCommits: DetectionStore, Sendable {
        let base: any DetectionStore
        let failNext = Mutex(false)
        init(_ base: any DetectionStore) { self.base = base }
        struct DiskFull: Error {}
        func detectionCursor() async throws -> Int64 { try await base.detectionCursor() }
        func commitDetection(_ batch: DetectionBatch) async throws {
            if failNext.withLock({ fail in defer { fail = false }; return fail }) { throw DiskFull() }
            try await base.commitDetection(batch)
        }
        func signals(before id: Int64?, limit: Int, subject: EntityRef?, rule: String?) async throws -> [StoredSignal] {
            try await base.signals(before: id, limit: limit, subject: subject, rule: rule)
        }
        func labels(of entity: EntityRef, at time: Int64) async throws -> [StoredLabel] { try await base.labels(of: entity, at: time) }
        func ruleHits(sinceHour hour: Int64) async throws -> [RuleHitCount] { try await base.ruleHits(sinceHour: hour) }
        func rulePrecision() async throws -> [String: (violations: Int, decided: Int)] { try await base.rulePrecision() }
        func saveDetectionSnapshot(seq: Int64, takenAt: Int64, data: [UInt8]) async throws {
            try await base.saveDetectionSnapshot(seq: seq, takenAt: takenAt, data: data)
        }
        func detectionSnapshot() async throws -> (seq: Int64, data: [UInt8])? { try await base.detectionSnapshot() }
        func dueClassificationJobs(at now: Int64, limit: Int) async throws -> [ClassificationJob] {
            try await base.dueClassificationJobs(at: now, limit: limit)
        }
        func settleClassificationJob(id: Int64, _ settlement: ClassificationSettlement, at now: Int64) async throws -> Bool {
            try await base.settleClassificationJob(id: id, settlement, at: now)
        }
        func classificationJobs(state: String?, before id: Int64?, limit: Int) async throws -> [ClassificationJob] {
            try await base.classificationJobs(state: state, before: id, limit: limit)
        }
        func classificationJobCounts() async throws -> [String: Int] { try await base.classificationJobCounts() }
    }

    /// A batch whose commit fails was already counted in memory; the pipeline rebuilds its state from
    /// the store before going on, so the batch is evaluated again exactly once and the state equals
    /// a run that never failed.
    @Test func aFailedCommitIsRedoneOnRebuiltState() async throws {
        let harness = try await Harness.make()
        let failing = FailingCommits(harness.store)
        let pipeline = DetectionPipeline(rules: harness.components.packs.pack.rules, events: harness.store, detections: failing,
                                         clock: Harness.FixedClock(), logger: .init(label: "test"))
        try await harness.test { client in
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (0..<6).map { signup($0) }.joined(separator: "\n"))
            #expect(try await pipeline.processNext() == 6)
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (6..<12).map { signup($0) }.joined(separator: "\n"))
            failing.failNext.withLock { $0 = true }
            await #expect(throws: FailingCommits.DiskFull.self) { try await pipeline.processNext() }
            #expect(try await harness.store.detectionCursor() == 6)
            #expect(try await pipeline.processNext() == 6)
            #expect(try await harness.store.detectionCursor() == 12)
            // Had the failed batch been counted twice, the threshold would have been crossed sooner.
            let signals = try await harness.store.signals(before: nil, limit: 100, subject: nil, rule: "signup_farm_ip")
            #expect(signals.map(\.subject?.id) == ["farm11", "farm10"])
            var full = Detector(rules: harness.components.packs.pack.rules)
            for stored in try await harness.store.events(after: 0, limit: 100, type: nil) {
                let parsed = try stored.body.withUnsafeBufferPointer { buffer throws(EventError) in
                    try harness.components.packs.pack.eventSchema.parse(buffer, now: .max / 4)
                }
                _ = full.process(parsed, body: stored.body)
            }
            #expect(try full.snapshot().encoded() == (try pipeline.stateSnapshot()))
        }
    }

    @Test func aRestartedPipelineRebuildsTheSameStateAndDoesNotRepeatEffects() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (0..<8).map { signup($0) }.joined(separator: "\n"))
            try await harness.detection.processNext()
            // A new pipeline over the same store: state comes back from the log, not from effects.
            let restarted = DetectionPipeline(rules: harness.components.packs.pack.rules, events: harness.store, detections: harness.store,
                                              clock: Harness.FixedClock(), logger: .init(label: "test"))
            try await restarted.restore()
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (8..<12).map { signup($0) }.joined(separator: "\n"))
            #expect(try await restarted.processNext() == 4)
            let signals = try await harness.store.signals(before: nil, limit: 100, subject: nil, rule: "signup_farm_ip")
            // Without the first eight sign-ups rebuilt into the counter, four more would not reach the threshold.
            #expect(signals.map(\.subject?.id) == ["farm11", "farm10"])
        }
    }
}

@Suite struct PolicyPackReloadTests {
    @Test func aGoodPackReplacesTheRunningOneAndABadOneNeverDoes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: Harness.packDirectory), to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        let harness = try await Harness.make(packDirectory: directory.path)
        try await harness.components.packs.recordStart()
        let rulesFile = directory.appendingPathComponent("rules/fake_accounts.rules")
        let original = try String(contentsOf: rulesFile, encoding: .utf8)
        try await harness.test { client in
            let before = try await client.get("/v1/rules", token: harness.reader)
            let oldVersion = (before.json["rules"] as? [[String: Any]])?.first { $0["name"] as? String == "signup_farm_ip" }?["version"] as? String

            #expect(try await client.post("/v1/policy-pack/reload", token: harness.reader, body: "").status == .forbidden)
            let unchanged = try await client.post("/v1/policy-pack/reload", token: harness.admin, body: "")
            #expect(unchanged.json["outcome"] as? String == "unchanged")

            try original.replacingOccurrences(of: "within 10m) > 10", with: "within 10m) > 5").write(to: rulesFile, atomically: true, encoding: .utf8)
            let activated = try await client.post("/v1/policy-pack/reload", token: harness.admin, body: "")
            #expect(activated.json["outcome"] as? String == "activated")
            // Everything that reads the pack reads the one in force (the taxonomy named the start-up pack).
            let taxonomy = try await client.get("/v1/taxonomy", token: harness.reader)
            #expect(taxonomy.json["version"] as? String == harness.components.packs.pack.version)
            #expect(taxonomy.json["version"] as? String != unchanged.json["version"] as? String)
            let after = try await client.get("/v1/rules", token: harness.reader)
            let newVersion = (after.json["rules"] as? [[String: Any]])?.first { $0["name"] as? String == "signup_farm_ip" }?["version"] as? String
            #expect(newVersion != nil && newVersion != oldVersion)
            // The new threshold is in force for detection.
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson",
                                      body: (0..<6).map { signup($0) }.joined(separator: "\n"))
            try await harness.detection.processNext()
            #expect(try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "signup_farm_ip").count == 1)

            try (original + "\nrule broken category spam when event.nope == 1 then signal\n").write(to: rulesFile, atomically: true, encoding: .utf8)
            let rejected = try await client.post("/v1/policy-pack/reload", token: harness.admin, body: "")
            #expect(rejected.status == .unprocessableContent)
            #expect((rejected.json["problems"] as? [String])?.first?.contains("rules/fake_accounts.rules") == true)

            try original.replacingOccurrences(of: "within 10m) > 10", with: "within 10m) > 50").write(to: rulesFile, atomically: true, encoding: .utf8)
            let failingTests = try await client.post("/v1/policy-pack/reload", token: harness.admin, body: "")
            #expect(failingTests.status == .unprocessableContent)
            #expect(harness.components.packs.pack.rules.rules.first { $0.name == "signup_farm_ip" }?.version == newVersion)

            let history = try await client.get("/v1/rules/history", token: harness.reader)
            let versions = (history.json["versions"] as? [[String: Any]] ?? []).filter { $0["rule"] as? String == "signup_farm_ip" }
            #expect(versions.count == 2)
            let outcomes = (history.json["changes"] as? [[String: Any]] ?? []).compactMap { $0["outcome"] as? String }
            #expect(outcomes == ["rejected", "rejected", "activated", "activated"])
            let actors = (history.json["changes"] as? [[String: Any]] ?? []).compactMap { $0["actor"] as? String }
            #expect(actors.first?.hasPrefix("token:tok_") == true)
        }
    }
}

@Suite struct DetectionStateTests {
    @Test func stateFromSnapshotPlusReplayEqualsAFullReplay() async throws {
        let harness = try await Harness.make()
        let events = (0..<40).map { index in
            index % 2 == 0 ? signup(index, ip: "198.51.100.\(index % 3)")
                : #"{"id":"p\#(index)","type":"payment.attempted","occurred_at":"\#(Timestamp.formatRFC3339(1_795_428_000_000 - 3_600_000 + Int64(index) * 10_000))","actor":{"type":"user","id":"c\#(index % 4)"},"entities":{"card":"k\#(index)","ip":"192.0.2.1"},"data":{"amount":1.0,"status":"declined"}}"#
        }
        let writer = harness.writer
        let store = harness.store
        let pack = harness.components.packs.pack
        try await harness.test { client in
            let running = DetectionPipeline(rules: pack.rules, events: store, detections: store, clock: Harness.FixedClock(),
                                            batchSize: 7, logger: .init(label: "test"))
            for chunk in stride(from: 0, to: events.count, by: 10) {
                _ = try await client.post("/v1/events", token: writer, contentType: "application/x-ndjson",
                                          body: events[chunk..<min(chunk + 10, events.count)].joined(separator: "\n"))
                while try await running.processNext() > 0 {}
                if chunk == 20 { try await running.saveSnapshot() }
            }
            let snapshot = try #require(try await store.detectionSnapshot())
            #expect(snapshot.seq > 0 && snapshot.seq < 40)

            let restored = DetectionPipeline(rules: pack.rules, events: store, detections: store, clock: Harness.FixedClock(), logger: .init(label: "test"))
            try await restored.restore()
            #expect(try restored.stateSnapshot() == (try running.stateSnapshot()))

            var full = Detector(rules: pack.rules)
            for stored in try await store.events(after: 0, limit: 100, type: nil) {
                let parsed = try stored.body.withUnsafeBufferPointer { buffer throws(EventError) in try pack.eventSchema.parse(buffer, now: .max / 4) }
                _ = full.process(parsed, body: stored.body)
            }
            #expect(try full.snapshot().encoded() == (try restored.stateSnapshot()))
        }
    }
}
