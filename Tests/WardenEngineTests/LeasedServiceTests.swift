import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WardenEngine
import WardenStore

/// A holder gives its work up before its lease could lapse when it cannot renew: whether the
/// store refuses the renewal (another node has it) or the renewal never answers.
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
        let seen = Mutex<[(Bool, ContinuousClock.Instant)]>([])
    }

    @Test(arguments: [Leases.After.refuse, .hang])
    func theWorkStopsBeforeTheLeaseCouldLapse(after: Leases.After) async throws {
        let changes = Changes()
        let service = LeasedService("detection", work: Idle(), store: Leases(after: after), owner: "node-a", millis: 1_500,
                                    logger: Logger(label: "test")) { running in changes.seen.withLock { $0.append((running, .now)) } }
        let task = Task { try await service.run() }
        defer { task.cancel() }
        let started = ContinuousClock.now
        while changes.seen.withLock({ $0.count }) < 2, ContinuousClock.now - started < .seconds(5) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = changes.seen.withLock { $0 }
        try #require(seen.count >= 2, "the work started and stopped")
        #expect(seen[0].0 == true && seen[1].0 == false)
        let held = seen[1].1 - seen[0].1
        // Renewals every 500 ms; refused at the first (≈ 500 ms), or hanging until two thirds of the
        // lease (1,000 ms) have passed: either way before its 1,500 ms could run out.
        #expect(held < .milliseconds(1_450), "held \(held)")
        if after == .hang { #expect(held >= .milliseconds(950), "held \(held)") }
    }
}
