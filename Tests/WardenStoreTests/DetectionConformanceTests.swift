import Foundation
import Testing
import WardenCore
import WardenReview
@testable import WardenStore

/// Detection's storage on both stores: a run of detection, classification and rule history reads
/// back the same on SQLite and PostgreSQL; and signals written from several connections at once are
/// seen by a reader following them by id without a gap.
@Suite struct DetectionConformanceTests {
    static func signal(_ seq: Int64, rule: String = "spam_burst", subject: String? = "user:u1", at: Int64 = 1_000) -> StoredSignal {
        StoredSignal(eventSeq: seq, rule: rule, ruleVersion: "v1", category: "spam", severity: "medium", subject: subject.flatMap { EntityRef(parsing: $0) },
                     reason: "burst of links", explanation: #"{"matched":["links"]}"#, queue: nil, verdict: "challenge", effects: "[]",
                     occurredAt: at, createdAt: at + 5)
    }

    /// A run of detection, written as lines: every answer and every read the store gives.
    static func detectionRun(_ store: any ConformingStore) async throws -> [String] {
        var lines: [String] = []
        func note(_ label: String, _ value: Any) { lines.append("\(label): \(value)") }
        _ = try await store.append((1...6).map { try event("e\($0)", actor: "u\($0 % 3)") }, receivedAt: 1)
        note("cursor before", try await store.detectionCursor())
        var batch = DetectionBatch(throughSeq: 3)
        batch.signals = [signal(1), signal(2, rule: "new_account", subject: "user:u2"), signal(3, subject: nil)]
        batch.labels = [.set(entity: EntityRef(type: "user", id: "u1"), name: "spammer", source: "rule:spam_burst", createdAt: 1_000, expiresAt: 90_000),
                        .set(entity: EntityRef(type: "user", id: "u2"), name: "new", source: "rule:new_account", createdAt: 1_000, expiresAt: nil)]
        batch.hits = [RuleHitCount(rule: "spam_burst", version: "v1", mode: "active", hour: 0, hits: 2),
                      RuleHitCount(rule: "new_account", version: "v1", mode: "shadow", hour: 0, hits: 1)]
        var job = ClassificationJob(signal: signal(4, rule: "toxic_llm"), mode: "active", condition: #"{"score":"toxicity","above":0.8}"#, createdAt: 1_010)
        job.nextAttemptAt = 1_010
        batch.jobs = [job, ClassificationJob(signal: signal(5, rule: "toxic_llm"), mode: "active", condition: "{}", createdAt: 1_011)]
        try await store.commitDetection(batch)
        // A replay of the same events (after a crash) doubles no signal.
        try await store.commitDetection(batch)
        var second = DetectionBatch(throughSeq: 6)
        second.labels = [.remove(entity: EntityRef(type: "user", id: "u2"), name: "new"),
                         .set(entity: EntityRef(type: "user", id: "u1"), name: "spammer", source: "person:ana", createdAt: 2_000, expiresAt: 200_000)]
        second.hits = [RuleHitCount(rule: "spam_burst", version: "v1", mode: "active", hour: 0, hits: 1)]
        try await store.commitDetection(second)
        note("cursor", try await store.detectionCursor())
        note("signals", try await store.signals(before: nil, limit: 10, subject: nil, rule: nil))
        note("signals of u1", try await store.signals(before: nil, limit: 10, subject: EntityRef(type: "user", id: "u1"), rule: nil).map(\.id))
        note("signals of a rule", try await store.signals(before: 3, limit: 10, subject: nil, rule: "spam_burst").map(\.id))
        note("signals after", try await store.signals(after: 1, limit: 10).map(\.id))
        note("labels of u1", try await store.labels(of: EntityRef(type: "user", id: "u1"), at: 3_000))
        note("labels of u1 later", try await store.labels(of: EntityRef(type: "user", id: "u1"), at: 300_000))
        note("labels of u2", try await store.labels(of: EntityRef(type: "user", id: "u2"), at: 3_000))
        note("hits", try await store.ruleHits(sinceHour: 0))

        note("due jobs", try await store.dueClassificationJobs(at: 1_020, limit: 10))
        let due = try await store.dueClassificationJobs(at: 1_020, limit: 10)
        note("fired", try await store.settleClassificationJob(id: due[0].id, .fired(explanation: "toxicity 0.93", answers: #"{"toxicity":0.93}"#), at: 1_030))
        note("fired twice", try await store.settleClassificationJob(id: due[0].id, .fired(explanation: "again", answers: "{}"), at: 1_031))
        note("retry", try await store.settleClassificationJob(id: due[1].id, .retry(error: "HTTP 503", at: 5_000), at: 1_032))
        note("not yet due", try await store.dueClassificationJobs(at: 1_040, limit: 10).map(\.id))
        note("jobs", try await store.classificationJobs(state: nil, before: nil, limit: 10))
        note("fired jobs", try await store.classificationJobs(state: "fired", before: nil, limit: 10).map(\.id))
        note("job counts", try await store.classificationJobCounts().sorted { $0.key < $1.key })
        note("signals after the job", try await store.signals(before: nil, limit: 10, subject: nil, rule: "toxic_llm"))
        note("hits after the job", try await store.ruleHits(sinceHour: 0))

        try await store.saveDetectionSnapshot(seq: 3, takenAt: 10, data: [1, 2, 3])
        try await store.saveDetectionSnapshot(seq: 6, takenAt: 20, data: Array("counters".utf8))
        note("snapshot", try await store.detectionSnapshot().map { "\($0.seq) \($0.data)" } as Any)

        // Reviewers decide the cases the signals opened: precision as review measures it.
        let policy = ReviewConformanceTests.policy
        let signals = try await store.signals(after: 0, limit: 10).filter { $0.subject != nil }
        try await store.mergeIntoCases(signals.map { CaseInput(kind: .signal, ref: $0.id, subject: $0.subject!, category: $0.category,
                                                              severity: $0.severity, rule: $0.rule, at: 1_000) },
                                       signalsThrough: signals.last?.id ?? 0, reportsThrough: 0, policy: policy, now: 10_000)
        for (index, id) in [Int64(1), 2].enumerated() {
            _ = try await store.claim(caseID: id, reviewer: ReviewConformanceTests.ana, policy: policy, now: 10_001)
            _ = try await store.decide(caseID: id, DecisionDraft(category: "spam", violation: index == 0, actions: []), actor: ReviewConformanceTests.ana,
                                       context: ReviewConformanceTests.context, policy: policy, now: 10_002)
        }
        note("precision", try await store.rulePrecision().sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.violations)/\($0.value.decided)" })

        try await store.record(PackChange(at: 1, actor: "startup", packVersion: "p1", outcome: "activated", detail: "{}"),
                               activating: [RuleVersionRecord(rule: "spam_burst", version: "v1", mode: "active", source: "rule spam_burst …", firstActiveAt: 1, packVersion: "p1")])
        try await store.record(PackChange(at: 2, actor: "file-watch", packVersion: "p2", outcome: "activated", detail: "{}"),
                               activating: [RuleVersionRecord(rule: "spam_burst", version: "v1", mode: "shadow", source: "changed?", firstActiveAt: 2, packVersion: "p2"),
                                            RuleVersionRecord(rule: "spam_burst", version: "v2", mode: "active", source: "rule spam_burst v2", firstActiveAt: 2, packVersion: "p2")])
        try await store.record(PackChange(at: 3, actor: "tok_1", packVersion: nil, outcome: "rejected", detail: #"{"problems":1}"#), activating: [])
        for (name, examples) in [("sms-spam", 5_574), ("toxicity", 120), ("sms-spam", 6_000)] {
            note("saved \(name)", try await store.saveModel(StoredClassifierModel(name: name, version: 0, kind: "logistic_regression", createdAt: 5,
                                                                                 trainedOn: "data.csv", examples: examples, labels: ["ham", "spam"],
                                                                                 metrics: #"{"f1":0.95}"#, data: [UInt8](repeating: 7, count: 300))))
        }
        note("models", try await store.models())
        note("newest sms-spam", try await store.model(named: "sms-spam", version: nil).map { "\($0.version) \($0.examples) \($0.data.count)" } as Any)
        note("sms-spam v1", try await store.model(named: "sms-spam", version: 1).map { "\($0.version) \($0.examples) \($0.data.count)" } as Any)
        note("no such model", try await store.model(named: "nope", version: nil) as Any)
        note("rule versions", try await store.ruleVersions())
        note("pack changes", try await store.packChanges(limit: 10))
        return lines
    }

    @Test func aRunOfDetectionReadsBackTheSameOnBothStores() async throws {
        let sqlite = try await Backend.sqlite.withStore { store, _ in try await Self.detectionRun(store) }
        let text = sqlite.joined(separator: "\n")
        #expect(text.contains("cursor: 6") && text.contains("fired twice: false") && text.contains("precision: [\"new_account 0/1\", \"spam_burst 1/1\", \"toxic_llm 1/1\"]"))
        #expect(text.contains("saved sms-spam: 2") && text.contains("newest sms-spam: Optional(\"2 6000 300\")"))
        #expect(text.contains("snapshot: Optional(\"6 [99, 111, 117, 110, 116, 101, 114, 115]\")"))
        guard Backend.underTest.contains(.postgres) else { return }
        let postgres = try await Backend.postgres.withStore { store, _ in try await Self.detectionRun(store) }
        #expect(postgres.count == sqlite.count)
        for (left, right) in zip(sqlite, postgres) where left != right {
            Issue.record("SQLite and PostgreSQL differ:\n  sqlite:   \(left)\n  postgres: \(right)")
        }
    }

    /// Three connections (on PostgreSQL, three nodes) commit signals while review writes SLA signals,
    /// and a reader follows them by id as the case builder does: it sees every signal, in id order,
    /// and never one behind an id it has already passed.
    @Test(arguments: Backend.underTest) func signalsFromSeveralWritersAreFollowedWithoutAGap(_ backend: Backend) async throws {
        try await backend.withStore { store, reopen in
            let events = 90
            _ = try await store.append((1...events).map { try event("s\($0)", actor: "u\($0)") }, receivedAt: 1)
            let nodes = [store, try await reopen(), try await reopen()]
            let reader = Task { () throws -> [Int64] in
                var seen: [Int64] = []
                let deadline = ContinuousClock.now + .seconds(60)
                while seen.count < events, ContinuousClock.now < deadline {
                    let page = try await store.signals(after: seen.last ?? 0, limit: 50)
                    seen += page.map(\.id)
                    if page.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
                }
                return seen
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, node) in nodes.enumerated() {
                    group.addTask {
                        for seq in stride(from: index + 1, through: events, by: nodes.count) {
                            var batch = DetectionBatch(throughSeq: Int64(seq))
                            batch.signals = [Self.signal(Int64(seq), subject: "user:u\(seq)")]
                            try await node.commitDetection(batch)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seen = try await reader.value
            #expect(seen == seen.sorted() && Set(seen).count == events)
            #expect(Set(try await store.signals(after: 0, limit: 1_000).map(\.id)) == Set(seen))
        }
    }
}
