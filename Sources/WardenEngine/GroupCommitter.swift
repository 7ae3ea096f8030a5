import Synchronization
import WardenCore
import WardenStore

/// Group commit for intake: concurrent submissions are appended in one transaction (one fsync)
/// while each caller still waits until its own events are durable.
///
/// There is no background task. The first caller to arrive while no commit is running becomes
/// the leader: it takes every pending submission (its own included), appends them together and
/// wakes the others with their outcomes. If more arrived meanwhile, it hands the lead to the
/// oldest waiter, so no caller does more than one round of other people's work.
final class GroupCommitter: Sendable {
    private enum Wake: Sendable {
        case lead
        case done(Result<[AppendOutcome], any Error>)
    }

    private struct Job {
        var ticket: UInt64
        var events: [IncomingEvent]
        var continuation: CheckedContinuation<(Wake, UInt64), Never>
    }

    private struct State {
        var pending: [Job] = []
        var leaderActive = false
        var nextTicket: UInt64 = 0
    }

    private let state = Mutex(State())
    private let store: any EventStore
    private let clock: any WallClock
    private let observe: @Sendable (_ submissions: Int, _ events: Int, _ seconds: Double) -> Void
    private let tail: LogTail?

    init(store: any EventStore, clock: any WallClock, tail: LogTail?, observe: @escaping @Sendable (Int, Int, Double) -> Void) {
        self.store = store
        self.clock = clock
        self.tail = tail
        self.observe = observe
    }

    func append(_ events: [IncomingEvent]) async throws -> [AppendOutcome] {
        let (wake, ticket) = await withCheckedContinuation { (continuation: CheckedContinuation<(Wake, UInt64), Never>) in
            let (ticket, lead) = state.withLock { state -> (UInt64, Bool) in
                let ticket = state.nextTicket
                state.nextTicket += 1
                state.pending.append(Job(ticket: ticket, events: events, continuation: continuation))
                guard !state.leaderActive else { return (ticket, false) }
                state.leaderActive = true
                return (ticket, true)
            }
            if lead { continuation.resume(returning: (.lead, ticket)) }
        }
        switch wake {
        case .done(let result):
            return try result.get()
        case .lead:
            return try await leadRound(ticket: ticket).get()
        }
    }

    private func leadRound(ticket: UInt64) async -> Result<[AppendOutcome], any Error> {
        let jobs = state.withLock { state in
            defer { state.pending.removeAll() }
            return state.pending
        }
        let started = ContinuousClock.now
        let results = await commit(jobs)
        // Publish in log order, before the lead passes on: the next round's events come after these.
        if let tail {
            var committed: [LogTail.Entry] = []
            for (job, result) in zip(jobs, results) {
                guard case .success(let outcomes) = result else { continue }
                for (event, outcome) in zip(job.events, outcomes) {
                    if case .accepted(let seq) = outcome { committed.append(LogTail.Entry(seq: seq, parsed: event.parsed, body: event.body)) }
                }
            }
            committed.sort { $0.seq < $1.seq }
            tail.append(committed)
        }
        let elapsed = started.duration(to: .now)
        observe(jobs.count, jobs.reduce(0) { $0 + $1.events.count },
                Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)

        var own: Result<[AppendOutcome], any Error> = .failure(StoreError.inconsistent("leader's job was not committed"))
        for (job, result) in zip(jobs, results) {
            if job.ticket == ticket {
                own = result
            } else {
                job.continuation.resume(returning: (.done(result), job.ticket))
            }
        }
        let next = state.withLock { state -> Job? in
            guard let next = state.pending.first else {
                state.leaderActive = false
                return nil
            }
            return next
        }
        if let next { next.continuation.resume(returning: (.lead, next.ticket)) }
        return own
    }

    /// Appends all jobs in one transaction; if that fails, each job alone, so one bad
    /// submission cannot fail its neighbours.
    private func commit(_ jobs: [Job]) async -> [Result<[AppendOutcome], any Error>] {
        let receivedAt = clock.nowMillis()
        do {
            let outcomes = try await store.append(jobs.flatMap(\.events), receivedAt: receivedAt)
            var results: [Result<[AppendOutcome], any Error>] = []
            var offset = 0
            for job in jobs {
                results.append(.success(Array(outcomes[offset..<(offset + job.events.count)])))
                offset += job.events.count
            }
            return results
        } catch {
            guard jobs.count > 1 else { return [.failure(error)] }
            var results: [Result<[AppendOutcome], any Error>] = []
            for job in jobs {
                do {
                    results.append(.success(try await store.append(job.events, receivedAt: receivedAt)))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }
}
