import Foundation
import Logging
import Synchronization
import Testing
import WardenCore
import WardenReview
import WardenStore
@testable import WardenEngine

/// A clock the test moves.
final class TestClock: WallClock {
    private let now: Mutex<Int64>
    init(_ start: Int64 = 1_795_428_000_000) { now = Mutex(start) }
    func nowMillis() -> Int64 { now.withLock { $0 } }
    func advance(_ millis: Int64) { now.withLock { $0 += millis } }
}

/// The engine's review pieces over a fresh SQLite store and the example pack, without HTTP.
struct ReviewFixture {
    let store: SQLiteStore
    let intake: Intake
    let review: ReviewService
    let clock = TestClock()

    init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(path: directory.appendingPathComponent("warden.sqlite").path)
        let pack = try PolicyPack.load(from: PolicyPackTests.example)
        let logger = Logger(label: "test")
        intake = Intake(store: store, schema: pack.eventSchema, clock: clock)
        let detection = DetectionPipeline(rules: pack.rules, events: store, detections: store, clock: clock, logger: logger)
        let packs = PackManager(pack: pack, pipeline: detection, intake: intake, history: store, clock: clock, logger: logger)
        review = ReviewService(store: store, packs: packs, clock: clock)
    }

    /// Opens a case about `subject` in `queue` (a signal the rule routed there).
    func openCase(_ subject: String, queue: String, category: String = "spam.links", ref: Int64) async throws -> Int64 {
        let input = CaseInput(kind: .signal, ref: ref, subject: EntityRef(parsing: subject)!, category: category, severity: "high", rule: "r",
                              requestedQueue: queue, at: clock.nowMillis())
        return try #require(try await store.mergeIntoCases([input], signalsThrough: ref, reportsThrough: 0, policy: review.policy,
                                                           now: clock.nowMillis()).first)
    }
}

@Suite struct ReviewServiceTests {
    /// Without actions, a violation takes the ladder's step for the subject's live strikes: the
    /// first spam violation warns, the second suspends for 24 hours.
    @Test func violationsClimbTheLadder() async throws {
        let fixture = try ReviewFixture()
        var taken: [String] = []
        for ref in Int64(1)...2 {
            let id = try await fixture.openCase("user:spammer", queue: "spam", ref: ref)
            _ = try await fixture.review.claim(caseID: id, reviewer: "user:ana")
            let decision = try await fixture.review.decide(caseID: id, DecisionDraft(category: "spam.links", violation: true, actions: []),
                                                           actor: "user:ana")
            taken += decision.actions.map { $0.action + ($0.duration.map { " " + DurationText.format($0) } ?? "") }
            fixture.clock.advance(60_000)
        }
        #expect(taken == ["warn", "suspend 1d"])
        #expect(try await fixture.store.liveStrikes(subject: "user:spammer", policy: "spam", now: fixture.clock.nowMillis()) == 2)
    }

    /// A decision is checked against the pack before anything is written: every problem is named.
    @Test func decisionsAreCheckedAgainstThePack() async throws {
        let fixture = try ReviewFixture()
        let id = try await fixture.openCase("user:u1", queue: "spam", ref: 1)
        _ = try await fixture.review.claim(caseID: id, reviewer: "user:ana")
        let draft = DecisionDraft(category: "no.such", violation: false, actions: [RequestedAction(name: "suspend", duration: nil)], macro: "nope")
        await #expect {
            try await fixture.review.decide(caseID: id, draft, actor: "user:ana")
        } throws: { error in
            guard let error = error as? ReviewError, error.kind == .invalid else { return false }
            return ["category \"no.such\" is not in the taxonomy", "there is no macro nope", "suspend needs a duration",
                    "a decision of no violation cannot restrict anything"].allSatisfy(error.message.contains)
        }
        #expect(try await fixture.store.decisions(caseID: id).isEmpty)
        #expect(try await fixture.store.caseRecord(id: id)?.state == .inReview)
    }

    /// A queue's `max_cases_per_hour` caps one reviewer's claims from it within any hour.
    @Test func exposureLimitsCapClaimsPerHour() async throws {
        let fixture = try ReviewFixture()
        let limit = try #require(fixture.review.policy.configuration.queues["urgent"]?.maxCasesPerHour)
        for ref in 1...Int64(limit + 1) { _ = try await fixture.openCase("user:u\(ref)", queue: "urgent", category: "violent_extremism", ref: ref) }
        for _ in 0..<limit {
            let claimed = try #require(try await fixture.review.claimNext(queue: "urgent", reviewer: "user:ana"))
            _ = try await fixture.review.change(caseID: claimed.id, .command(.release, note: nil), actor: "user:ana")
        }
        await #expect(throws: ReviewError.self) { try await fixture.review.claimNext(queue: "urgent", reviewer: "user:ana") }
        #expect(try await fixture.review.claimNext(queue: "urgent", reviewer: "user:ben") != nil)
        fixture.clock.advance(3_600_001)
        #expect(try await fixture.review.claimNext(queue: "urgent", reviewer: "user:ana") != nil)
    }

    /// The case builder turns a report in the log into a case routed by the pack; a second pass
    /// over the same log changes nothing.
    @Test func theCaseBuilderTurnsReportsIntoCasesOnce() async throws {
        let fixture = try ReviewFixture()
        let report = ReportSubmission(reporter: .init(type: "user", id: "r1"), subject: .init(type: "user", id: "troll"), reason: "harassment.bullying")
        let result = try await fixture.intake.submit(report: report, defaultID: "rpt_1")
        #expect(result.accepted == 1)
        let builder = CaseBuilder(review: fixture.review, events: fixture.store, logger: Logger(label: "test"))
        #expect(try await builder.step() == 1)
        #expect(try await builder.step() == 0)
        let cases = try await fixture.store.cases(queue: nil, state: nil, assignee: nil, before: nil, limit: 10)
        #expect(cases.map(\.subject) == [EntityRef(type: "user", id: "troll")])
        #expect(cases.first?.queue == "harassment" && cases.first?.reports == 1 && cases.first?.source == .report)
    }

    /// The review clocks: a lapsed lease returns the case to its queue.
    @Test func lapsedLeasesReturnToTheQueue() async throws {
        let fixture = try ReviewFixture()
        let id = try await fixture.openCase("user:u1", queue: "spam", ref: 1)
        _ = try await fixture.review.claim(caseID: id, reviewer: "user:ana")
        let timers = ReviewTimers(review: fixture.review, logger: Logger(label: "test"))
        try await timers.tick()
        #expect(try await fixture.store.caseRecord(id: id)?.state == .inReview)
        fixture.clock.advance(300_001)
        try await timers.tick()
        let record = try #require(try await fixture.store.caseRecord(id: id))
        #expect(record.state == .open && record.assignee == nil)
        #expect(try await fixture.store.timeline(caseID: id).last?.actor == "system:leases")
    }
}

@Suite struct IntakeTests {
    /// Valid lines are stored, invalid ones answered with their line and field; a new pack's
    /// schema (an entity type registered by a reload) applies to the next submission.
    @Test func linesAreJudgedOneByOneUnderThePackInForce() async throws {
        let fixture = try ReviewFixture()
        let body = Array("""
            {"id":"e1","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"u1"}}
            {"id":"e2","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"robot","id":"r1"}}
            """.utf8)
        let result = try await fixture.intake.submit(body, format: .ndjson)
        #expect(result.accepted == 1 && result.rejected == 1)
        #expect(result.results.last?.error?.field == "actor")
        var schema = fixture.intake.schema
        schema.entityTypes = EntityTypes(additional: ["robot"])
        fixture.intake.replaceSchema(schema)
        #expect(try await fixture.intake.submit(body, format: .ndjson).results.map(\.status) == [.duplicate, .accepted])
    }
}

@Suite struct CaseSearchTests {
    /// Free text finds a case by its subject, a comment or a decision's rationale, every word
    /// required, the last also as a prefix; words that look like FTS operators are only words.
    @Test func freeTextFindsCasesByWhatPeopleWrote() async throws {
        let fixture = try ReviewFixture()
        let first = try await fixture.openCase("user:alpha", queue: "spam", ref: 1)
        let second = try await fixture.openCase("user:beta", queue: "spam", category: "spam", ref: 2)
        _ = try await fixture.review.claim(caseID: first, reviewer: "user:ana")
        _ = try await fixture.review.change(caseID: first, .comment("Purple elephant links in every post"), actor: "user:ana")
        _ = try await fixture.review.claim(caseID: second, reviewer: "user:ana")
        _ = try await fixture.review.decide(caseID: second, DecisionDraft(category: "spam", violation: false, actions: [], rationale: "Holiday greetings"),
                                            actor: "user:ana")
        func search(_ text: String, category: String? = nil) async throws -> [Int64] {
            try await fixture.review.cases(CaseQuery(category: category, text: text)).map(\.id)
        }
        #expect(try await search("purple") == [first])
        #expect(try await search("elephant PURPLE") == [first], "all words, any order, any case")
        #expect(try await search("eleph") == [first], "the last word as a prefix")
        #expect(try await search("purple greetings") == [], "every word must appear in the case")
        #expect(try await search("holiday") == [second], "a decision's rationale")
        #expect(try await search("beta") == [second], "the subject")
        #expect(try await search("purple\" (") == [first], "quotes and brackets are not syntax")
        #expect(try await search("NOT purple") == [], "operators are words, required like any other")
        #expect(try await search("purple", category: "spam") == [first], "spam.links is under spam")
        #expect(try await search("purple", category: "fraud") == [])
        #expect(CaseQuery(text: " ,;").ftsQuery == nil)
    }
}

@Suite struct ExposureCapTests {
    /// Over the daily cap, claim-next passes over sensitive cases for other work in the same
    /// queue, and claiming a sensitive case by id is refused with the reason.
    @Test func overTheCapClaimNextGivesOtherWork() async throws {
        let fixture = try ReviewFixture()
        let cap = fixture.review.policy.configuration.exposure.dailyCap ?? 0
        #expect(cap > 0 && fixture.review.policy.configuration.exposure.isSensitive("harassment.threats"))
        var ref: Int64 = 0
        for _ in 0..<cap {
            ref += 1
            let id = try await fixture.openCase("user:s\(ref)", queue: "general", category: "harassment.threats", ref: ref)
            _ = try await fixture.review.claim(caseID: id, reviewer: "user:ana")
            _ = try await fixture.review.change(caseID: id, .command(.release, note: nil), actor: "user:ana")
            fixture.clock.advance(1)
        }
        #expect(try await fixture.review.exposureStanding(of: "user:ana").overCap)
        ref += 1
        let sensitive = try await fixture.openCase("user:threat", queue: "general", category: "harassment.threats", ref: ref)
        ref += 1
        let other = try await fixture.openCase("user:spam", queue: "general", category: "spam.links", ref: ref)
        let claimed = try await fixture.review.claimNext(queue: "general", reviewer: "user:ana")
        #expect(claimed?.id == other, "the non-sensitive case, though the sensitive ones wait longer")
        await #expect(throws: ReviewError.self) { try await fixture.review.claim(caseID: sensitive, reviewer: "user:ana") }
        #expect(try await fixture.review.claimNext(queue: "general", reviewer: "user:ben")?.subject.description != nil, "others are not capped")
        #expect(try await fixture.review.exposureStanding(of: "user:ana").sensitive == cap, "the other claim was not sensitive")
        fixture.clock.advance(86_400_000)
        let nextDay = try await fixture.review.exposureStanding(of: "user:ana")
        #expect(nextDay.sensitive == 0 && !nextDay.overCap, "a new UTC day starts a new count")
        _ = try await fixture.review.claim(caseID: sensitive, reviewer: "user:ana")
        #expect(try await fixture.review.exposureStanding(of: "user:ana").sensitive == 1)
    }
}

@Suite struct QueueListingTests {
    /// A queue's waiting cases listed in claim order are the cases claim-next takes, in that order.
    @Test func waitingCasesAreListedInClaimOrder() async throws {
        let fixture = try ReviewFixture()
        for ref in Int64(1)...6 {
            _ = try await fixture.openCase("user:w\(ref)", queue: "spam", category: ref % 2 == 0 ? "spam.links" : "spam", ref: ref)
            fixture.clock.advance(1000)
        }
        var query = CaseQuery(queue: "spam", limit: 100)
        query.waitingInClaimOrder = true
        let listed = try await fixture.review.cases(query).map(\.id)
        var claimed: [Int64] = []
        while let next = try await fixture.review.claimNext(queue: "spam", reviewer: "user:ana") { claimed.append(next.id) }
        #expect(listed.count == 6 && listed == claimed)
        #expect(try await fixture.review.cases(query).isEmpty, "claimed cases are no longer waiting")
    }
}
