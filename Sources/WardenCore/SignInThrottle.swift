/// Password guessing, slowed: failed sign-ins are counted per account and per network address over
/// a sliding window; too many lock that account or address out for a while. Pure: the caller
/// keeps the value, gives it the time, and audits the lock-outs it reports.
public struct SignInThrottle: Sendable {
    /// How many failures within `window` lock out an account or an address, and for how long.
    public struct Limits: Sendable, Equatable {
        public var accountFailures: Int
        public var addressFailures: Int
        public var windowMillis: Int64
        public var lockoutMillis: Int64

        public init(accountFailures: Int = 5, addressFailures: Int = 20, windowMillis: Int64 = 15 * 60_000, lockoutMillis: Int64 = 15 * 60_000) {
            self.accountFailures = accountFailures
            self.addressFailures = addressFailures
            self.windowMillis = windowMillis
            self.lockoutMillis = lockoutMillis
        }
    }

    /// What is counted: the account tried, or the address the attempt came from.
    public enum Key: Sendable, Hashable, CustomStringConvertible {
        case account(String)
        case address(String)

        public var description: String {
            switch self {
            case .account(let name): "user:\(name)"
            case .address(let address): "address:\(address)"
            }
        }
    }

    /// A lock-out that a failure started.
    public struct Lockout: Sendable, Equatable {
        public var key: Key
        public var failures: Int
        public var until: Int64

        public init(key: Key, failures: Int, until: Int64) {
            self.key = key
            self.failures = failures
            self.until = until
        }
    }

    public let limits: Limits
    /// Most keys remembered; beyond it the stalest are forgotten (a flood of addresses cannot grow it without bound).
    public let maxKeys: Int
    private var failures: [Key: [Int64]] = [:]
    private var locked: [Key: Int64] = [:]

    public init(limits: Limits = Limits(), maxKeys: Int = 100_000) {
        self.limits = limits
        self.maxKeys = maxKeys
    }

    /// Until when an attempt for `account` from `address` is refused, or nil when it may go ahead.
    public func lockedUntil(account: String, address: String?, now: Int64) -> Int64? {
        let keys: [Key] = [.account(account)] + (address.map { [.address($0)] } ?? [])
        let until = keys.compactMap { locked[$0] }.filter { $0 > now }.max()
        return until
    }

    /// Counts a failed attempt; returns the lock-outs it started (at most one per key).
    public mutating func recordFailure(account: String, address: String?, now: Int64) -> [Lockout] {
        var started: [Lockout] = []
        for (key, limit) in [(Key.account(account), limits.accountFailures)] + (address.map { [(Key.address($0), limits.addressFailures)] } ?? []) {
            var times = (failures[key] ?? []).filter { $0 > now - limits.windowMillis }
            times.append(now)
            if times.count >= limit, (locked[key] ?? 0) <= now {
                locked[key] = now + limits.lockoutMillis
                started.append(Lockout(key: key, failures: times.count, until: now + limits.lockoutMillis))
                times = []
            }
            failures[key] = times
        }
        forgetStale(now: now)
        return started
    }

    /// A successful sign-in clears the account's failures (not the address's: one right password
    /// does not excuse many wrong ones for other accounts).
    public mutating func recordSuccess(account: String) {
        failures[.account(account)] = nil
    }

    /// How many keys are remembered.
    public var rememberedKeys: Int { Set(failures.keys).union(locked.keys).count }

    private mutating func forgetStale(now: Int64) {
        guard failures.count + locked.count > maxKeys else { return }
        failures = failures.filter { $0.value.contains { $0 > now - limits.windowMillis } }
        locked = locked.filter { $0.value > now }
        while failures.count > maxKeys, let stalest = failures.min(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) }) {
            failures[stalest.key] = nil
        }
    }
}
