import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WardenEngine
import WardenStore

/// A holder gives its work up before its lease could lapse when it cannot renew: whether the
/// store refuses the renewal (another node has it) or the renewal never answers.
///
/// The service runs on a clock the test moves by hand, so what is checked (when the work stopped,
/// in the lease's own time) does not depend on how busy the machine is: on a loaded 2-core CI
/// machine a wall-clock version of this test saw timers fire seconds late.
@Suite struct LeasedServiceTests {
    /// Grants the lease at the first call; every renewal after it is refused, or never answers.
    actor Leases: LeaseStore {
        enum After { case refuse, hang }
        let after: After
        var calls = 0
        init(after: After) { self.after = after }

        func acquireLease(_ name: String, owner: String, millis: Int64) async throws -> Bool {
            calls += 1
            guard calls > 1 else { return true }
            switch after {
            case .refuse: return false
            case .hang:
                try await Task.sleep(for: .seconds(3_600))
                return true
            }
        }
        func releaseLease(_ name: String, owner: String) async throws {}
        func leases() async throws -> [String: (owner: String, expiresAt: Int64)] { [:] }
    }

    /// Runs until cancelled.
    struct Idle: Service {
        func run() async throws { try await Task.sleep(for: .seconds(3_600)) }
    }

    final class Changes: Sendable {
        let seen = Mutex<[(running: Bool, at: Duration)]>([])
        var count: Int { seen.withLock { $0.count } }
    }

    @Test(arguments: [Leases.After.refuse, .hang])
    func theWorkStopsBeforeTheLeaseCouldLapse(after: Leases.After) async throws {
        let clock = ManualClock()
        let changes = Changes()
        let service = LeasedService("detection", work: Idle(), store: Leases(after: after), owner: "node-a", millis: 1_500,
                                    clock: clock, logger: Logger(label: "test")) { running in
            changes.seen.withLock { $0.append((running, clock.now.offset)) }
        }
        let task = Task { try await service.run() }
        defer { task.cancel() }

        // It takes the lease at once and waits a third of it (500 ms) to renew.
        try await eventually { changes.count == 1 && clock.sleepers == 1 }
        let started = changes.seen.withLock { $0[0] }
        #expect(started.running && started.at == .zero)
        clock.advance(by: .milliseconds(500))
        switch after {
        case .refuse:
            // The renewal is refused: the work stops there and then.
            try await eventually { changes.count == 2 }
        case .hang:
            // The renewal hangs; at 999 ms the work still runs; at two thirds of the lease
            // (1,000 ms after the lease was taken) it is given up, the renewal still unanswered.
            try await eventually { clock.sleepers == 1 }
            clock.advance(by: .milliseconds(499))
            try await Task.sleep(for: .milliseconds(200))
            #expect(changes.count == 1, "still running at 999 ms")
            clock.advance(by: .milliseconds(1))
            try await eventually { changes.count == 2 }
        }
        let stopped = changes.seen.withLock { $0[1] }
        #expect(stopped.running == false)
        #expect(stopped.at == (after == .refuse ? .milliseconds(500) : .milliseconds(1_000)))
        #expect(stopped.at < .milliseconds(1_500), "stopped before the lease could lapse")
    }

    /// Waits (up to a minute of wall time, for a busy machine) until `condition` holds.
    private func eventually(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let started = ContinuousClock.now
        while !condition() {
            guard ContinuousClock.now - started < .seconds(60) else {
                Issue.record("the condition did not hold within a minute", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// A clock that moves only when told to; sleepers wake when it passes their deadline.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct State {
        var now = Instant(offset: .zero)
        var next: UInt64 = 0
        var sleeping: [UInt64: (deadline: Instant, wake: CheckedContinuation<Void, any Error>)] = [:]
        var cancelled: Set<UInt64> = []
    }
    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }
    /// How many sleepers wait for the clock to move.
    var sleepers: Int { state.withLock { $0.sleeping.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.next += 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (wake: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleeping[id] = (deadline, wake)
                    return nil
                }
                if let now { wake.resume(with: now) }
            }
        } onCancel: {
            let wake = state.withLock { state in
                guard let sleeper = state.sleeping.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return nil as CheckedContinuation<Void, any Error>?
                }
                return sleeper.wake
            }
            wake?.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on and wakes every sleeper whose deadline it reached.
    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleeping.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleeping[id] = nil }
            return due.values.map(\.wake)
        }
        for wake in due { wake.resume() }
    }
}
