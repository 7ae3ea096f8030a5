public import WardenCore
public import WardenQuality

/// What quality reports and QA audits read and write in the store. The store loads and applies;
/// sampling, the QA review's rules and the reports are worked out in WardenQuality.
public protocol QualityStore: Sendable {
    /// Every decision on a review case made in `from ..< to`, with its case's times, the outcome of
    /// the latest decided appeal against the case, and who first escalated it. In decision order.
    func decisionFacts(from: Int64, to: Int64) async throws -> [DecisionFact]

    // MARK: QA audits
    /// Draws `plan` over the decisions made in `from ..< to` that no audit has drawn yet, and stores
    /// the audit and its items (waiting in the QA queue) in one transaction.
    func createAudit(name: String, plan: SamplingPlan, from: Int64, to: Int64, teams: [String: [String]], actor: ActorRef, now: Int64) async throws -> QAAudit
    /// Audits, newest first, before id `before`.
    func audits(before: Int64?, limit: Int) async throws -> [QAAudit]
    func audit(id: Int64) async throws -> QAAudit?
    func qaItem(id: Int64) async throws -> QAItem?
    /// QA items in id order: of one audit, on one decider's decisions, in some states, with a
    /// verdict given in `verdictFrom ..< verdictTo`; after id `after`.
    func qaItems(_ query: QAItemQuery) async throws -> [QAItem]
    /// Applies a command to an item (its audit entry in the same transaction).
    func commandQAItem(id: Int64, _ command: QACommand, actor: ActorRef, isLead: Bool, taxonomy: [ErrorType], categories: Set<String>, now: Int64) async throws -> QAItem
    /// The item `actor` holds in review, or else claims the oldest waiting item (of `auditID` when
    /// given) on a decision someone else made; nil when there is none.
    func claimNextQAItem(auditID: Int64?, actor: ActorRef, now: Int64) async throws -> QAItem?
}

/// Which QA items to read.
public struct QAItemQuery: Sendable, Equatable {
    public var auditID: Int64?
    public var decider: String?
    public var states: [QAState]?
    public var verdictFrom: Int64?
    public var verdictTo: Int64?
    public var after: Int64?
    public var limit: Int

    public init(auditID: Int64? = nil, decider: String? = nil, states: [QAState]? = nil, verdictFrom: Int64? = nil, verdictTo: Int64? = nil,
                after: Int64? = nil, limit: Int) {
        self.auditID = auditID
        self.decider = decider
        self.states = states
        self.verdictFrom = verdictFrom
        self.verdictTo = verdictTo
        self.after = after
        self.limit = limit
    }
}
