public import WardenCore

/// Everything a Warden server keeps, behind one name: the protocols the engine's services use,
/// which both stores implement (SQLite embedded, PostgreSQL for several nodes). The server is
/// built over this, never over one store's type.
public protocol WardenStorage: EventStore, AuditStore, TokenStore, UserStore, CaseStore, OutboxStore, StatementStore, DetectionStore,
    ClassificationJobStore, RuleHistoryStore, ClassifierModelStore, IncidentStore, QualityStore, GoldenMixing, SessionStore, ArticleStore,
    SearchStore, InvestigationStore, LinkStore, HashBankStore, BulkStore, DerivedTableStore, OperationsStore, LeaseStore {
    /// Whether the store answers (readiness).
    func ping() async throws
    /// Whether other nodes may write the same store: when they may, nothing in one process's
    /// memory stands for the log (each node reads what every node committed from the store).
    var isShared: Bool { get }
}

/// Who runs each piece of background work that must run on one node at a time (a log consumer,
/// a clock): a lease with an owner and an expiry that its holder renews.
public protocol LeaseStore: Sendable {
    /// Takes or renews the lease `name` for `owner` for `millis` from now by the store's own clock
    /// (nodes' clocks need not agree): true when `owner` holds it afterwards (it was free, expired,
    /// or already theirs).
    func acquireLease(_ name: String, owner: String, millis: Int64) async throws -> Bool
    /// Gives the lease up if `owner` holds it, so another node takes over at once.
    func releaseLease(_ name: String, owner: String) async throws
    /// Every lease held, by name: its owner and expiry.
    func leases() async throws -> [String: (owner: String, expiresAt: Int64)]
}

extension SQLiteStore: WardenStorage, LeaseStore {
    /// One process writes an SQLite store: every lease is its own.
    public func acquireLease(_ name: String, owner: String, millis: Int64) async throws -> Bool { true }
    public func releaseLease(_ name: String, owner: String) async throws {}
    public func leases() async throws -> [String: (owner: String, expiresAt: Int64)] { [:] }
    public var isShared: Bool { false }
}
