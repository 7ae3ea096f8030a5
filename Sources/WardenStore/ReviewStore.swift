public import WardenCore

/// A review case as stored.
public struct CaseRecord: Sendable, Equatable {
    public var id: Int64
    /// `review`, or `appeal` for an appeal of another case's decision.
    public var kind: String
    /// Whom or what it is about (`user:u1`, `content:c9`).
    public var subject: String
    /// What opened it.
    public var source: CaseSource
    public var queue: String
    public var state: CaseState
    /// The category and severity of its most severe signal or report.
    public var category: String
    public var severity: String
    /// Priority score (0–100) and band.
    public var score: Int
    public var band: CasePriority.Band
    /// Signals and reports gathered, and the sum of the distinct reporters' trust.
    public var signals: Int
    public var reports: Int
    public var reporterWeight: Double
    /// Who holds it, and until when without activity.
    public var assignee: String?
    public var leaseExpiresAt: Int64?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// When the earliest content or behaviour in it happened.
    public var contentAt: Int64
    public var firstActionAt: Int64?
    public var resolvedAt: Int64?
    /// The SLA clock, the resolution deadline (``ReviewPolicy/noDeadline`` when none runs), the next
    /// SLA event's time and the SLA events already raised.
    public var clock: SLAClock
    public var dueAt: Int64
    public var slaNextAt: Int64?
    public var slaRaised: Int
    /// For appeals: the case appealed, and who decided it (who may not review the appeal).
    public var appealOf: Int64?
    public var excludedReviewer: String?
    /// Why it was last escalated.
    public var escalationReason: String?
}

/// One entry of a case's timeline.
public struct TimelineEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Int64
    public var actor: String
    /// `created`, `transition`, `signal`, `report`, `comment`, `handoff`, `consult`, `decision`, `action`, `reversal`, `sla`, `lease`.
    public var kind: String
    public var fromState: CaseState?
    public var toState: CaseState?
    /// Details as a JSON object.
    public var detail: String
}

/// A signal or report for the case builder to merge.
public struct CaseInput: Sendable, Equatable {
    public enum Kind: String, Sendable { case signal, report }
    public var kind: Kind
    /// The signal's id or the report event's seq (merging is idempotent on it).
    public var ref: Int64
    public var subject: EntityRef
    public var category: String
    public var severity: String
    /// The rule (signals).
    public var rule: String?
    /// The queue the rule routed to.
    public var requestedQueue: String?
    /// Who reported (reports).
    public var reporter: String?
    /// When it happened.
    public var at: Int64

    public init(kind: Kind, ref: Int64, subject: EntityRef, category: String, severity: String, rule: String? = nil,
                requestedQueue: String? = nil, reporter: String? = nil, at: Int64) {
        self.kind = kind
        self.ref = ref
        self.subject = subject
        self.category = category
        self.severity = severity
        self.rule = rule
        self.requestedQueue = requestedQueue
        self.reporter = reporter
        self.at = at
    }
}

/// What a case-moving request carries besides its command.
public enum CaseChange: Sendable, Equatable {
    /// A lifecycle command (release, hold, resume, close); `note` goes on the timeline.
    case command(CaseCommand, note: String?)
    /// Escalate to another queue with a reason.
    case escalate(queue: String, reason: String)
    /// Give the case to a named reviewer (the lease moves with it).
    case handoff(to: String, note: String?)
    /// Ask another reviewer for an opinion (the holder keeps the case).
    case consult(with: String, question: String)
    /// Add a comment.
    case comment(String)
    /// Renew the lease (activity).
    case renew
}

/// An action a decision asks for.
public struct RequestedAction: Sendable, Equatable {
    public var name: String
    public var duration: Int64?

    public init(name: String, duration: Int64?) {
        self.name = name
        self.duration = duration
    }
}

/// A decision as submitted, already checked against the pack by the engine.
public struct DecisionDraft: Sendable, Equatable {
    public enum AppealOutcome: String, Sendable { case upheld, overturned }

    public var category: String
    public var violation: Bool
    /// Explicit actions; when empty and `violation`, the category's ladder decides.
    public var actions: [RequestedAction]
    public var policy: String?
    public var rationale: String?
    /// Illegal content (rather than incompatible with the terms), and the legal ground.
    public var illegal: Bool
    public var legalGround: String?
    /// The decision-tree path taken, as a JSON array.
    public var treePath: String?
    public var macro: String?
    /// For appeal cases.
    public var appealOutcome: AppealOutcome?
    /// Rendered macro messages to send with the decision.
    public var messages: [OutgoingMessage] = []
    /// The policy pack version in force (decisions are labels tagged with the policy they applied).
    public var packVersion: String?

    public init(category: String, violation: Bool, actions: [RequestedAction], policy: String? = nil, rationale: String? = nil,
                illegal: Bool = false, legalGround: String? = nil, treePath: String? = nil, macro: String? = nil, appealOutcome: AppealOutcome? = nil) {
        self.category = category
        self.violation = violation
        self.actions = actions
        self.policy = policy
        self.rationale = rationale
        self.illegal = illegal
        self.legalGround = legalGround
        self.treePath = treePath
        self.macro = macro
        self.appealOutcome = appealOutcome
    }
}

/// A message a decision sends, already rendered from a macro.
public struct OutgoingMessage: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// To the user the decision is about (webhook `user.notice`).
        case userNotice = "user_notice"
        /// To each reporter of the case (webhook `reporter.reply`).
        case reporterReply = "reporter_reply"
        /// On the case timeline only.
        case internalNote = "internal_note"
    }

    public var kind: Kind
    public var macro: String
    public var text: String

    public init(kind: Kind, macro: String, text: String) {
        self.kind = kind
        self.macro = macro
        self.text = text
    }
}

/// What the store needs from the pack to record a decision.
public struct DecisionContext: Sendable {
    public var catalogue: EnforcementCatalogue
    /// DSA statement category of each taxonomy category.
    public var dsaCategories: [String: String]

    public init(catalogue: EnforcementCatalogue, dsaCategories: [String: String]) {
        self.catalogue = catalogue
        self.dsaCategories = dsaCategories
    }
}

/// A recorded decision.
public struct DecisionRecord: Sendable, Equatable {
    public var id: Int64
    public var caseID: Int64
    public var decidedBy: String
    public var at: Int64
    public var category: String
    public var violation: Bool
    public var policy: String?
    public var rationale: String?
    public var treePath: String?
    public var macro: String?
    public var appealOutcome: String?
    /// The actions taken, in order.
    public var actions: [ActionRecord]
    /// Whether a statement of reasons was made.
    public var hasStatement: Bool
}

/// An enforcement action taken (or a reversal delivered).
public struct ActionRecord: Sendable, Equatable {
    public var id: Int64
    public var decisionID: Int64
    public var caseID: Int64
    public var subject: String
    public var action: String
    public var duration: Int64?
    public var createdAt: Int64
    /// For a reversal: the action it undoes.
    public var reverses: Int64?
    public var reversedAt: Int64?
    public var reversedBy: String?
    public var reversalReason: String?
}

/// One webhook delivery waiting in (or done with) the outbox.
public struct OutboxItem: Sendable, Equatable {
    public enum State: String, Sendable { case pending, delivered, dead }
    public var id: Int64
    /// `action.applied`, `action.reversed`, `sla.warning`, `sla.breached`, `user.notice`, `reporter.reply`.
    public var topic: String
    /// Sent as `Idempotency-Key`; derived from what caused it, so it never changes on retry.
    public var idempotencyKey: String
    public var body: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var lastError: String?
    public var createdAt: Int64
    public var deliveredAt: Int64?
}

/// A statement of reasons as stored.
public struct StoredStatement: Sendable, Equatable {
    public var decisionID: Int64
    public var createdAt: Int64
    /// The statement's JSON.
    public var body: String
}

/// A reviewed text: the content behind a decided case (from the events its signals fired on) and
/// what reviewers finally decided, appeals included: ground truth for classifiers.
public struct DecidedText: Sendable, Equatable {
    public var decisionID: Int64
    public var caseID: Int64
    public var at: Int64
    public var category: String
    /// The decision's verdict, or its reverse when an appeal overturned it.
    public var violation: Bool
    public var overturned: Bool
    public var packVersion: String?
    public var text: String

    public init(decisionID: Int64, caseID: Int64, at: Int64, category: String, violation: Bool, overturned: Bool, packVersion: String?, text: String) {
        self.decisionID = decisionID
        self.caseID = caseID
        self.at = at
        self.category = category
        self.violation = violation
        self.overturned = overturned
        self.packVersion = packVersion
        self.text = text
    }
}

/// A count of cases by queue and state.
public struct QueueCount: Sendable, Equatable {
    public var queue: String
    public var state: CaseState
    public var count: Int
    /// Waiting cases past their resolution deadline.
    public var breached: Int
}

/// Why the store refused a review operation.
public struct ReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case notFound, conflict, invalid, forbidden, limited }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Storage for review: cases, their timeline, decisions, actions, the outbox, statements of
/// reasons and the audit log. Every change is one transaction that also appends to the audit
/// chain, so nothing changes without its audit entry and no audit entry exists without its change.
/// A question one reviewer asked another about a case, and its answer.
public struct ConsultRecord: Sendable, Equatable {
    public var id: Int64
    public var caseID: Int64
    /// Who asked (the case's holder then) and whom.
    public var askedBy: String
    public var reviewer: String
    public var question: String
    public var askedAt: Int64
    public var answer: String?
    public var answeredAt: Int64?
    /// The case as it is now: its queue, state, subject, category and holder.
    public var queue: String
    public var state: CaseState
    public var subject: String
    public var category: String
    public var assignee: String?
}

public protocol ReviewStore: Sendable {
    /// The case builder's cursors: last signal id and last report event seq merged.
    func caseBuilderCursors() async throws -> (signals: Int64, reports: Int64)
    /// Signals after `id`, oldest first.
    func signals(after id: Int64, limit: Int) async throws -> [StoredSignal]
    /// Consults asked of `reviewer`, newest first; `answered` filters.
    func consults(for reviewer: String, answered: Bool?, limit: Int) async throws -> [ConsultRecord]
    /// One consult.
    func consult(id: Int64) async throws -> ConsultRecord?
    /// Records the consulted reviewer's answer on the case's timeline (only they can, once).
    func answerConsult(id: Int64, answer: String, actor: String, now: Int64) async throws -> ConsultRecord
    /// Merges signals and reports into open cases (creating them as needed) and moves the cursors.
    /// Returns the ids of the cases created or changed.
    @discardableResult
    func mergeIntoCases(_ inputs: [CaseInput], signalsThrough: Int64, reportsThrough: Int64, policy: ReviewPolicy, now: Int64) async throws -> [Int64]
    /// Claims the most urgent waiting case of `queue` that `reviewer` may take.
    func claimNext(queue: String, reviewer: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord?
    /// Claims a named case.
    func claim(caseID: Int64, reviewer: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord
    /// Moves or annotates a case. Only its holder may move a held case.
    func change(caseID: Int64, _ change: CaseChange, actor: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord
    /// Records a decision on a case its holder is reviewing: actions, strikes, outbox deliveries,
    /// a statement of reasons when something is restricted, reporter trust; resolves the case (for
    /// an appeal: closes the appealed case and, when overturned, reverses its actions).
    func decide(caseID: Int64, _ draft: DecisionDraft, actor: String, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> DecisionRecord
    /// Reverses an action: delivers its compensating action and lifts its strike.
    func reverse(actionID: Int64, reason: String, actor: String, context: DecisionContext, now: Int64) async throws -> ActionRecord
    /// Texts of decided review cases since `since` (ms), oldest decision first, with the final verdict.
    func decidedTexts(since: Int64) async throws -> [DecidedText]
    /// How many cases `reviewer` claimed from `queue` since `since` (for exposure limits).
    func claims(by reviewer: String, queue: String, since: Int64) async throws -> Int
    /// Live strikes of a subject under a policy (a category and its sub-categories) at `now`.
    func liveStrikes(subject: String, policy: String, now: Int64) async throws -> Int
    /// The reporters whose reports count on a case.
    func reporters(caseID: Int64) async throws -> [String]
    /// Opens an appeal of a resolved case's latest decision.
    func openAppeal(caseID: Int64, appellant: String, statement: String?, actor: String, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord
    /// Returns held cases whose lease lapsed to their queue; returns how many.
    func expireLeases(policy: ReviewPolicy, now: Int64) async throws -> Int
    /// Raises SLA warnings and breaches that fell due (timeline, audit, outbox); returns them.
    func raiseSLAEvents(policy: ReviewPolicy, now: Int64, limit: Int) async throws -> [(caseID: Int64, queue: String, event: SLAEvent)]
    /// Mutes or unmutes a reporter (a muted reporter's reports weigh nothing).
    func setReporter(_ reporter: String, muted: Bool, actor: String, now: Int64) async throws

    func caseRecord(id: Int64) async throws -> CaseRecord?
    func timeline(caseID: Int64) async throws -> [TimelineEntry]
    func decisions(caseID: Int64) async throws -> [DecisionRecord]
    /// Cases, newest first, filtered.
    func cases(queue: String?, state: CaseState?, assignee: String?, before: Int64?, limit: Int) async throws -> [CaseRecord]
    func queueCounts(now: Int64) async throws -> [QueueCount]

    /// Pending deliveries due at `now`, oldest first.
    func dueDeliveries(now: Int64, limit: Int) async throws -> [OutboxItem]
    /// Records deliveries the receiver accepted (with its status), in one transaction.
    func markDelivered(_ receipts: [(id: Int64, status: Int)], now: Int64) async throws
    /// Records a failed attempt: retried at `retryAt`, or dead-lettered when nil.
    func markFailed(_ id: Int64, error: String, retryAt: Int64?, now: Int64) async throws
    /// Puts dead deliveries (all, or the given ones) back in line; returns how many.
    func redrive(ids: [Int64]?, actor: String, now: Int64) async throws -> Int
    func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem]

    /// Statements of reasons made in [from, to), after decision id `after`, oldest first.
    func statements(from: Int64, to: Int64, after: Int64, limit: Int) async throws -> [StoredStatement]

    /// Appends an audit entry on its own (for reads of sensitive content and exports).
    func audit(actor: String, action: String, target: String, detail: String, now: Int64) async throws
    /// Audit entries after `seq`, in order.
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    /// The head the store records apart from the log.
    func auditHead() async throws -> (seq: Int64, hash: [UInt8])?
}
