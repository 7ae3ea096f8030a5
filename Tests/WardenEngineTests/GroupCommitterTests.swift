import Foundation
import Synchronization
import Testing
import WardenCore
import WardenStore
@testable import WardenEngine

/// An event store that records each append and takes its time, so concurrent callers pile up.
final class SlowStore: EventStore {
    let appends = Mutex<[Int]>([])
    let failOn: String?
    private let next = Mutex<Int64>(1)

    init(failOn: String? = nil) {
        self.failOn = failOn
    }

    func append(_ events: [IncomingEvent], receivedAt: Int64) async throws -> [AppendOutcome] {
        appends.withLock { $0.append(events.count) }
        try await Task.sleep(for: .milliseconds(30))
        if let failOn, events.contains(where: { $0.parsed.id == failOn }) { throw StoreError.inconsistent("refused \(failOn)") }
        return events.map { _ in .accepted(seq: next.withLock { value in defer { value += 1 }; return value }) }
    }

    func event(id: String) async throws -> StoredEvent? { nil }
    func events(after seq: Int64, limit: Int, type: String?) async throws -> [StoredEvent] { [] }
    func firstSeq(receivedSince time: Int64) async throws -> Int64? { nil }
    func entity(_ ref: EntityRef, recentLimit: Int, linkLimit: Int) async throws -> EntityDetail? { nil }
    func statistics() async throws -> StoreStatistics { StoreStatistics(eventCount: 0) }
    func indexEntities(limit: Int) async throws -> EntityIndexProgress { EntityIndexProgress(indexed: 0, indexedThroughSeq: 0, lastSeq: 0) }
    func entityIndexStatus() async throws -> EntityIndexProgress { EntityIndexProgress(indexed: 0, indexedThroughSeq: 0, lastSeq: 0) }
    func checkpoint(truncate: Bool) async throws -> Int { 0 }
}

func events(_ prefix: String, _ count: Int) -> [IncomingEvent] {
    (0..<count).map { index in
        IncomingEvent(parsed: ParsedEvent(id: "\(prefix)-\(index)", type: "x", occurredAt: 0, actor: nil, entities: [], dataRange: nil), body: [])
    }
}

@Suite struct GroupCommitterTests {
    @Test func concurrentCallersShareTransactionsAndEachGetsItsOwnOutcomes() async throws {
        let store = SlowStore()
        let tail = LogTail()
        let committer = GroupCommitter(store: store, clock: SystemWallClock(), tail: tail) { _, _, _ in }
        let answers = try await withThrowingTaskGroup(of: (Int, [AppendOutcome]).self) { group in
            for caller in 0..<16 {
                group.addTask { (caller, try await committer.append(events("c\(caller)", caller + 1))) }
            }
            return try await group.reduce(into: [Int: [AppendOutcome]]()) { $0[$1.0] = $1.1 }
        }
        for caller in 0..<16 { #expect(answers[caller]?.count == caller + 1) }
        let seqs = answers.values.flatMap { $0 }.map { outcome -> Int64 in
            if case .accepted(let seq) = outcome { return seq }
            return -1
        }
        #expect(Set(seqs).count == seqs.count)
        let appends = store.appends.withLock { $0 }
        #expect(appends.reduce(0, +) == (1...16).reduce(0, +))
        #expect(appends.count < 16, "expected grouped commits, got \(appends)")
        // The tail holds every committed event, in log order.
        #expect(tail.events(after: 0, limit: 1000)?.map(\.seq) == Array(1...136))
        #expect(tail.events(after: 130, limit: 3)?.map(\.seq) == [131, 132, 133])
        #expect(tail.events(after: 136, limit: 3)?.isEmpty == true)
    }

    @Test func oneFailingSubmissionDoesNotFailItsNeighbours() async throws {
        let store = SlowStore(failOn: "bad-0")
        let committer = GroupCommitter(store: store, clock: SystemWallClock(), tail: nil) { _, _, _ in }
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for name in ["a", "b", "bad", "c", "d"] {
                group.addTask {
                    do {
                        _ = try await committer.append(events(name, 2))
                        return (name, true)
                    } catch {
                        return (name, false)
                    }
                }
            }
            return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(results == ["a": true, "b": true, "bad": false, "c": true, "d": true])
    }
}

@Suite struct LogTailTests {
    func entries(_ range: ClosedRange<Int64>) -> [LogTail.Entry] {
        range.map { LogTail.Entry(seq: $0, parsed: ParsedEvent(id: "e\($0)", type: "x", occurredAt: 0, actor: nil, entities: [], dataRange: nil), body: []) }
    }

    @Test func readersBehindTheWindowOrAcrossAGapGoToTheStore() {
        let tail = LogTail(capacity: 10)
        #expect(tail.events(after: 0, limit: 5) == nil)
        tail.append(entries(1...15))
        #expect(tail.events(after: 2, limit: 5) == nil)
        #expect(tail.events(after: 5, limit: 3)?.map(\.seq) == [6, 7, 8])
        // The window is trimmed back to its capacity once it passes a quarter over it.
        tail.append(entries(16...17))
        #expect(tail.events(after: 5, limit: 1)?.map(\.seq) == [6])
        tail.append(entries(18...18))
        #expect(tail.events(after: 7, limit: 1) == nil)
        #expect(tail.events(after: 8, limit: 1)?.map(\.seq) == [9])
        tail.append(entries(20...21))
        #expect(tail.events(after: 15, limit: 3) == nil)
        #expect(tail.events(after: 19, limit: 3)?.map(\.seq) == [20, 21])
    }

    /// A consumer waiting for work wakes when intake commits, not at its timeout; a commit it read
    /// the generation before is not slept through; with nothing committed it waits out the timeout;
    /// cancelled, it returns at once.
    @Test func waitersWakeOnTheNextCommitOrTheirTimeoutOrCancellation() async throws {
        let tail = LogTail()
        let clock = ContinuousClock()

        // The timeout is far beyond the bound asserted: a full parallel run on two cores has kept a
        // woken task from running for over 10 s.
        let seen = tail.generation
        let waiter = Task { () -> ContinuousClock.Instant in
            await tail.waitForCommit(after: seen, timeout: .seconds(300))
            return clock.now
        }
        try await Task.sleep(for: .milliseconds(100))
        let appendedAt = clock.now
        tail.append(entries(1...1))
        let wokeAt = await waiter.value
        #expect(wokeAt >= appendedAt && appendedAt.duration(to: wokeAt) < .seconds(120), "woke \(appendedAt.duration(to: wokeAt)) after the commit")

        // The commit came between reading the generation and waiting: no wait at all.
        let stale = seen
        let started = clock.now
        await tail.waitForCommit(after: stale, timeout: .seconds(300))
        #expect(started.duration(to: clock.now) < .seconds(120))

        // Nothing committed: the timeout.
        let idle = clock.now
        await tail.waitForCommit(after: tail.generation, timeout: .milliseconds(200))
        let idled = idle.duration(to: clock.now)
        #expect(idled >= .milliseconds(200) && idled < .seconds(120), "timed out after \(idled)")

        // Cancelled while waiting.
        let cancelled = Task { () -> Duration in
            let started = clock.now
            await tail.waitForCommit(after: tail.generation, timeout: .seconds(300))
            return started.duration(to: clock.now)
        }
        try await Task.sleep(for: .milliseconds(100))
        cancelled.cancel()
        #expect(await cancelled.value < .seconds(120))
    }
}

@Suite struct EndpointHealthTests {
    @Test func aDownEndpointGetsOneProbePerGrowingInterval() {
        let health = EndpointHealth(tripAfter: 3)
        #expect(health.admission(now: 0) == .open)
        for _ in 0..<3 { health.failed(now: 0) }
        #expect(health.admission(now: 500) == .wait)
        #expect(health.admission(now: 1000) == .probe)
        #expect(health.admission(now: 1001) == .wait)
        health.failed(now: 1001)
        #expect(health.admission(now: 2999) == .wait)
        #expect(health.admission(now: 3000) == .probe)
        health.succeeded()
        #expect(health.admission(now: 3001) == .open)
    }

    @Test func backoffDoublesWithJitterAndStopsAtTheCap() {
        #expect(OutboxDeliverer.backoff(attempt: 1, base: 1000, cap: 600_000, jitter: 1) == 1000)
        #expect(OutboxDeliverer.backoff(attempt: 4, base: 1000, cap: 600_000, jitter: 1) == 8000)
        #expect(OutboxDeliverer.backoff(attempt: 4, base: 1000, cap: 600_000, jitter: 0) == 4000)
        #expect(OutboxDeliverer.backoff(attempt: 60, base: 1000, cap: 600_000, jitter: 1) == 600_000)
    }

    /// Delivery attempts are paced: 100 callers at once at 1,000 a second take at least 0.1 s, not
    /// an instant, and a quiet spell saves up no burst.
    @Test func attemptsArePacedToTheRate() async {
        let pacer = Pacer()
        let started = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            for _ in 0..<100 { group.addTask { await pacer.wait(perSecond: 1000) } }
        }
        #expect(started.duration(to: .now) >= .milliseconds(95))
        // A quiet spell saves up no credit: the next burst is paced too.
        try? await Task.sleep(for: .milliseconds(300))
        let again = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            for _ in 0..<20 { group.addTask { await pacer.wait(perSecond: 1000) } }
        }
        #expect(again.duration(to: .now) >= .milliseconds(19))
    }
}
