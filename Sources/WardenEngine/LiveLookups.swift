import Synchronization
public import WardenInvestigations
public import WardenRules

/// What rules read live: every hash bank's index and every derived table's first column. The hash
/// bank service and the derived-table scheduler replace their part after each change; detectors
/// read it per event without waiting on either.
public final class LiveLookups: RuleLookups, Sendable {
    private let matcher = Mutex(HashMatcher())
    private let derived = Mutex([String: Set<String>]())

    public init() {}

    public func hashDistance(bank: String, hash: String) -> Int? {
        matcher.withLock { $0.distance(bank: bank, hash: hash) }
    }

    public func derivedList(_ query: String, contains item: String) -> Bool? {
        derived.withLock { $0[query]?.contains(item) }
    }

    /// The matcher as it is now (an immutable copy: matching runs outside the lock).
    public var hashes: HashMatcher { matcher.withLock { $0 } }

    public func replace(_ index: BankIndex) { matcher.withLock { $0.replace(index) } }
    public func removeBank(_ name: String) { matcher.withLock { $0.remove(bank: name) } }

    /// Puts a derived table's first column (lower-cased) in force for rules.
    public func replaceDerived(_ query: String, items: Set<String>) { derived.withLock { $0[query] = items } }
    public func removeDerived(_ query: String) { derived.withLock { $0[query] = nil } }
    public func derivedCount(_ query: String) -> Int? { derived.withLock { $0[query]?.count } }
}
