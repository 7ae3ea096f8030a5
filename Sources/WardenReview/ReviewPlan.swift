public import WardenCore

/// Everything one review operation writes, worked out by a ``ReviewPlanner`` from loaded state and
/// applied by the store in one transaction. Identifiers of new rows (cases, decisions, actions,
/// consults) were handed to the planner with the state, so timeline entries, audit details and
/// webhook bodies can name them; the store inserts the rows under those identifiers.
///
/// Within each list the order is the order of writing: timeline entries and audit entries are
/// appended in it (the audit chain hashes them in that order), and deliveries are queued in it (a
/// reversal never overtakes the action it undoes).
public struct ReviewPlan: Sendable, Equatable {
    /// Cases created, and cases changed (their final values: the store writes what differs).
    public var insertedCases: [CaseRecord] = []
    public var updatedCases: [CaseRecord] = []
    /// Signals and reports merged into a case (merging is idempotent on them).
    public var items: [CaseItem] = []
    /// Reporters' standing after the operation (written whole).
    public var reporters: [ReporterRecord] = []
    public var decisions: [DecisionRow] = []
    public var actions: [ActionRecord] = []
    /// Actions marked as reversed.
    public var reversals: [ActionReversal] = []
    public var strikes: [Strike] = []
    /// Decisions whose live strikes are lifted.
    public var liftedStrikes: [LiftedStrikes] = []
    public var statements: [StatementRow] = []
    public var consults: [ConsultRow] = []
    public var answers: [ConsultAnswer] = []
    /// Signals about a case (SLA warnings and breaches).
    public var caseSignals: [CaseSignal] = []
    public var timeline: [TimelineDraft] = []
    public var audit: [AuditDraft] = []
    public var outbox: [OutboxMessage] = []
    /// Golden items mixed into live queues, and the scored answers of decisions on them.
    public var goldenCases: [GoldenCaseRow] = []
    public var goldenChecks: [GoldenCheckRow] = []

    /// An empty plan.
    public init() {}

    /// Lifts the live strikes of a decision (once, however many reversals ask).
    public mutating func liftStrikes(of decisionID: Int64, at: Int64) {
        if !liftedStrikes.contains(where: { $0.decisionID == decisionID }) { liftedStrikes.append(LiftedStrikes(decisionID: decisionID, at: at)) }
    }

    /// Whether the plan writes nothing.
    public var isEmpty: Bool { self == ReviewPlan() }

    /// Records a case's final value (one entry per case: a later change replaces an earlier one).
    public mutating func update(_ record: CaseRecord) {
        if let index = insertedCases.firstIndex(where: { $0.id == record.id }) {
            insertedCases[index] = record
        } else if let index = updatedCases.firstIndex(where: { $0.id == record.id }) {
            updatedCases[index] = record
        } else {
            updatedCases.append(record)
        }
    }
}

/// A signal or report merged into a case.
public struct CaseItem: Sendable, Equatable {
    public var kind: CaseInput.Kind
    /// The signal id or report seq.
    public var ref: Int64
    public var caseID: Int64
    public var reporter: String?
    /// What the report weighs (the reporter's trust, or 0).
    public var weight: Double
    /// A reporter's second report of the same case (kept, not counted).
    public var duplicate: Bool
    public var at: Int64
}

/// A decision as written.
public struct DecisionRow: Sendable, Equatable {
    public var id: Int64
    public var caseID: Int64
    public var decidedBy: ActorRef
    public var at: Int64
    public var draft: DecisionDraft
}

/// An action marked as reversed.
public struct ActionReversal: Sendable, Equatable {
    public var actionID: Int64
    public var at: Int64
    public var by: ActorRef
    public var reason: String
}

/// A strike against a subject under a policy, until it expires.
public struct Strike: Sendable, Equatable {
    public var subject: EntityRef
    /// The ladder's category.
    public var policy: String
    public var decisionID: Int64
    public var at: Int64
    public var expiresAt: Int64

    public init(subject: EntityRef, policy: String, decisionID: Int64, at: Int64, expiresAt: Int64) {
        self.subject = subject
        self.policy = policy
        self.decisionID = decisionID
        self.at = at
        self.expiresAt = expiresAt
    }
}

/// The live strikes of a decision, lifted (by a reversal or an overturned appeal).
public struct LiftedStrikes: Sendable, Equatable {
    public var decisionID: Int64
    public var at: Int64

}

/// A statement of reasons as written.
public struct StatementRow: Sendable, Equatable {
    public var decisionID: Int64
    public var createdAt: Int64
    /// The statement's JSON.
    public var body: String
}

/// A consult asked.
public struct ConsultRow: Sendable, Equatable {
    public var id: Int64
    public var caseID: Int64
    public var askedBy: ActorRef
    public var reviewer: ActorRef
    public var question: String
    public var askedAt: Int64
}

/// A consult answered.
public struct ConsultAnswer: Sendable, Equatable {
    public var consultID: Int64
    public var answer: String
    public var at: Int64
}

/// A signal about a case (beside rule hits in the signal list; it opens no case).
public struct CaseSignal: Sendable, Equatable {
    public var caseID: Int64
    public var rule: String
    public var ruleVersion: String
    public var category: String
    public var severity: String
    public var subject: EntityRef
    public var reason: String
    public var explanation: String
    public var queue: String
    public var at: Int64
}

/// A timeline entry to append.
public struct TimelineDraft: Sendable, Equatable {
    public var caseID: Int64
    public var at: Int64
    public var actor: ActorRef
    public var kind: TimelineEntry.Kind
    public var from: CaseState?
    public var to: CaseState?
    /// A JSON object.
    public var detail: String
}
