import Testing
import WardenCore

@Suite struct SignInThrottleTests {
    static let limits = SignInThrottle.Limits(accountFailures: 3, addressFailures: 5, windowMillis: 60_000, lockoutMillis: 300_000)

    /// Each row: failures as (account, address, at), then the check (account, address, at) and the lock-out's end expected.
    @Test(arguments: [
        // Fewer failures than the limit: no lock-out.
        ([("ana", "10.0.0.1", 0), ("ana", "10.0.0.1", 1_000)], ("ana", "10.0.0.1", 2_000), nil),
        // The account's third failure locks it, from any address.
        ([("ana", "10.0.0.1", 0), ("ana", "10.0.0.2", 1_000), ("ana", "10.0.0.3", 2_000)], ("ana", "10.0.0.9", 3_000), 302_000),
        // Failures spread beyond the window do not add up.
        ([("ana", "10.0.0.1", 0), ("ana", "10.0.0.1", 30_000), ("ana", "10.0.0.1", 61_000)], ("ana", "10.0.0.1", 62_000), nil),
        // The lock-out ends when it says.
        ([("ana", "10.0.0.1", 0), ("ana", "10.0.0.1", 1), ("ana", "10.0.0.1", 2)], ("ana", "10.0.0.1", 300_002), nil),
        // Five failures from one address, each for another account, lock the address for every account.
        ([("a", "10.0.0.1", 0), ("b", "10.0.0.1", 1), ("c", "10.0.0.1", 2), ("d", "10.0.0.1", 3), ("e", "10.0.0.1", 4)], ("zoe", "10.0.0.1", 10), 300_004),
        // ... but not other addresses.
        ([("a", "10.0.0.1", 0), ("b", "10.0.0.1", 1), ("c", "10.0.0.1", 2), ("d", "10.0.0.1", 3), ("e", "10.0.0.1", 4)], ("zoe", "10.0.0.2", 10), nil),
    ] as [([(String, String, Int64)], (String, String, Int64), Int64?)])
    func lockOuts(failures: [(String, String, Int64)], check: (String, String, Int64), until: Int64?) {
        var throttle = SignInThrottle(limits: Self.limits)
        for (account, address, at) in failures { _ = throttle.recordFailure(account: account, address: address, now: at) }
        #expect(throttle.lockedUntil(account: check.0, address: check.1, now: check.2) == until)
    }

    /// A lock-out is reported once, when it starts, with the failures that caused it.
    @Test func aLockOutIsReportedWhenItStarts() {
        var throttle = SignInThrottle(limits: Self.limits)
        #expect(throttle.recordFailure(account: "ana", address: nil, now: 0).isEmpty)
        #expect(throttle.recordFailure(account: "ana", address: nil, now: 1).isEmpty)
        let started = throttle.recordFailure(account: "ana", address: nil, now: 2)
        #expect(started == [SignInThrottle.Lockout(key: .account("ana"), failures: 3, until: 300_002)])
        #expect(throttle.recordFailure(account: "ana", address: nil, now: 3).isEmpty)
    }

    /// The right password clears the account's failures, not the address's.
    @Test func successClearsTheAccountOnly() {
        var throttle = SignInThrottle(limits: Self.limits)
        for at in Int64(0)..<2 { _ = throttle.recordFailure(account: "ana", address: "10.0.0.1", now: at) }
        throttle.recordSuccess(account: "ana")
        _ = throttle.recordFailure(account: "ana", address: "10.0.0.1", now: 3)
        #expect(throttle.lockedUntil(account: "ana", address: nil, now: 4) == nil)
        for at in Int64(5)..<7 { _ = throttle.recordFailure(account: "bob", address: "10.0.0.1", now: at) }
        #expect(throttle.lockedUntil(account: "carl", address: "10.0.0.1", now: 8) == 300_006)
    }

    /// A flood of addresses cannot grow the throttle without bound.
    @Test func rememberedKeysAreBounded() {
        var throttle = SignInThrottle(limits: Self.limits, maxKeys: 100)
        for i in 0..<1_000 { _ = throttle.recordFailure(account: "ana", address: "10.0.\(i / 256).\(i % 256)", now: Int64(i)) }
        #expect(throttle.rememberedKeys <= 102)
    }
}
