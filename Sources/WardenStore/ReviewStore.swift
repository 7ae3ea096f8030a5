public import WardenCore
public import WardenReview

/// One webhook delivery waiting in (or done with) the outbox.
public struct OutboxItem: Sendable, Equatable {
    public enum State: String, Sendable, Codable, CaseIterable { case pending, delivered, dead }
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
    /// "" for the product's webhook, else the notification channel it goes to.
    public var destination: String = ""
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
    /// The final finding (`FinalFinding`): the decision's verdict, its reverse when an appeal
    /// overturned it, or the QA verdict when QA found the decision wrong.
    public var violation: Bool
    public var overturned: Bool
    /// The label comes from a QA verdict that found the decision wrong.
    public var correctedByQA: Bool
    public var packVersion: String?
    public var text: String

    public init(decisionID: Int64, caseID: Int64, at: Int64, category: String, violation: Bool, overturned: Bool, correctedByQA: Bool = false,
                packVersion: String?, text: String) {
        self.decisionID = decisionID
        self.caseID = caseID
        self.at = at
        self.category = category
        self.violation = violation
        self.overturned = overturned
        self.correctedByQA = correctedByQA
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

/// Cases opened on one day from one source in one category.
public struct InboundCount: Sendable, Equatable {
    public var day: Int64
    public var source: String
    public var category: String
    public var count: Int
    public init(day: Int64, source: String, category: String, count: Int) {
        self.day = day
        self.source = source
        self.category = category
        self.count = count
    }
}

/// Decisions of one day with one outcome.
public struct DecisionCount: Sendable, Equatable {
    public var day: Int64
    public var outcome: String
    public var count: Int
    public init(day: Int64, outcome: String, count: Int) {
        self.day = day
        self.outcome = outcome
        self.count = count
    }
}

/// Which cases to list: every filter given must hold.
public struct CaseQuery: Sendable, Equatable {
    public var queue: String?
    public var state: CaseState?
    public var assignee: ActorRef?
    /// Only cases someone holds (in review or on hold).
    public var held: Bool
    public var subject: EntityRef?
    /// A category and those under it (`harassment` takes `harassment.bullying`).
    public var category: String?
    /// Words that must all appear in the case's subject, report texts, comments, notes or
    /// decisions (full-text search; each word matched as a whole word, the last one also as a prefix).
    public var text: String?
    /// Opened at or after, and before (ms).
    public var createdFrom: Int64?
    public var createdBefore: Int64?
    /// Ids below this one (paging).
    public var before: Int64?
    public var limit: Int
    /// Only waiting cases (open or escalated), in the order claim-next takes them (band, due
    /// time, id) instead of newest first; `before` and `state` do not apply.
    public var waitingInClaimOrder: Bool = false

    public init(queue: String? = nil, state: CaseState? = nil, assignee: ActorRef? = nil, held: Bool = false, subject: EntityRef? = nil,
                category: String? = nil, text: String? = nil, createdFrom: Int64? = nil, createdBefore: Int64? = nil, before: Int64? = nil,
                limit: Int = 50) {
        self.held = held
        self.queue = queue
        self.state = state
        self.assignee = assignee
        self.subject = subject
        self.category = category
        self.text = text
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.before = before
        self.limit = limit
    }

    /// The words of `text` as an FTS5 query: each quoted (so no word is read as an operator), all
    /// required, the last one also as a prefix. Nil when there is no word.
    public var ftsQuery: String? {
        let words = (text ?? "").split(whereSeparator: { !$0.isLetter && !$0.isNumber }).prefix(20).map(String.init)
        guard !words.isEmpty else { return nil }
        return words.enumerated().map { index, word in
            "\"\(word)\"" + (index == words.count - 1 ? "*" : "")
        }.joined(separator: " ")
    }

    /// The same words as a PostgreSQL text query (`'a' & 'b':*`, for `to_tsquery('simple', …)`).
    public var tsQuery: String? { SearchQuery.tsQuery(text ?? "") }
}

extension CaseStore {
    /// Cases, newest first, filtered by queue, state and holder.
    public func cases(queue: String?, state: CaseState?, assignee: ActorRef?, before: Int64?, limit: Int) async throws -> [CaseRecord] {
        try await cases(CaseQuery(queue: queue, state: state, assignee: assignee, before: before, limit: limit))
    }
}

/// Storage for review: everything cases, outbox, statements and the audit chain need.
public typealias ReviewStore = CaseStore & OutboxStore & StatementStore & AuditStore

/// Storage for cases: their timeline, decisions, actions, consults and reporters. Each change is one
/// transaction in which the store loads what the operation needs, hands it to ``ReviewPlanner``
/// (the review rules, pure) and applies the plan it returns, audit entries included, so nothing
/// changes without its audit entry and no audit entry exists without its change. The store decides
/// nothing itself: a refusal is the planner's ``ReviewError``.
public protocol CaseStore: Sendable {
    /// The case builder's cursors: last signal id and last report event seq merged.
    func caseBuilderCursors() async throws -> (signals: Int64, reports: Int64)
    /// Signals after `id`, oldest first.
    func signals(after id: Int64, limit: Int) async throws -> [StoredSignal]
    /// Consults asked of `reviewer`, newest first; `answered` filters.
    func consults(for reviewer: ActorRef, answered: Bool?, limit: Int) async throws -> [ConsultRecord]
    /// One consult.
    func consult(id: Int64) async throws -> ConsultRecord?
    /// Records the consulted reviewer's answer on the case's timeline (only they can, once).
    func answerConsult(id: Int64, answer: String, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> ConsultRecord
    /// Merges signals and reports into open cases (creating them as needed) and moves the cursors.
    /// Returns the ids of the cases created or changed.
    @discardableResult
    func mergeIntoCases(_ inputs: [CaseInput], signalsThrough: Int64, reportsThrough: Int64, policy: ReviewPolicy, now: Int64) async throws -> [Int64]
    /// Claims the queue's most urgent waiting case for `reviewer`. A reviewer who has reached the
    /// policy's daily exposure cap (``ExposurePolicy/avoided(claimedToday:)``, counted in the claim's
    /// own transaction) is passed over the sensitive categories' cases.
    func claimNext(queue: String, reviewer: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord?
    /// Claims a named case.
    func claim(caseID: Int64, reviewer: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord
    /// Moves or annotates a case. Only its holder may move a held case.
    func change(caseID: Int64, _ change: CaseChange, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord
    /// Records a decision on a case its holder is reviewing: actions, strikes, outbox deliveries,
    /// a statement of reasons when something is restricted, reporter trust; resolves the case (for
    /// an appeal: closes the appealed case and, when overturned, reverses its actions).
    func decide(caseID: Int64, _ draft: DecisionDraft, actor: ActorRef, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> DecisionRecord
    /// Reverses an action: delivers its compensating action and lifts its strike.
    func reverse(actionID: Int64, reason: String, actor: ActorRef, context: DecisionContext, policy: ReviewPolicy, now: Int64) async throws -> ActionRecord
    /// Texts of decided review cases since `since` (ms), oldest decision first, with the final verdict.
    func decidedTexts(since: Int64) async throws -> [DecidedText]
    /// How many cases `reviewer` claimed from `queue` since `since` (for exposure limits).
    func claims(by reviewer: ActorRef, queue: String, since: Int64) async throws -> Int
    /// How many cases `reviewer` claimed on the UTC day that starts at `day`, by each case's
    /// category when it was claimed (for the daily exposure cap).
    func claimsByCategory(by reviewer: ActorRef, onDay day: Int64) async throws -> [String: Int]
    /// Live strikes of a subject under a policy (a category and its sub-categories) at `now`.
    func liveStrikes(subject: String, policy: String, now: Int64) async throws -> Int
    /// The reporters whose reports count on a case.
    func reporters(caseID: Int64) async throws -> [String]
    /// Opens an appeal of a resolved case's latest decision.
    func openAppeal(caseID: Int64, appellant: EntityRef, statement: String?, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord
    /// Returns held cases whose lease lapsed to their queue; returns how many.
    func expireLeases(policy: ReviewPolicy, now: Int64) async throws -> Int
    /// Raises SLA warnings and breaches that fell due (timeline, audit, outbox); returns them.
    func raiseSLAEvents(policy: ReviewPolicy, now: Int64, limit: Int) async throws -> [RaisedSLAEvent]
    /// Mutes or unmutes a reporter (a muted reporter's reports weigh nothing).
    func setReporter(_ reporter: String, muted: Bool, actor: ActorRef, policy: ReviewPolicy, now: Int64) async throws

    func caseRecord(id: Int64) async throws -> CaseRecord?
    func timeline(caseID: Int64) async throws -> [TimelineEntry]
    /// What `actor` did of `kind` since `since`, newest first, with each entry's case.
    func activity(by actor: ActorRef, kind: TimelineEntry.Kind, since: Int64, limit: Int) async throws -> [(caseID: Int64, entry: TimelineEntry)]
    func decisions(caseID: Int64) async throws -> [DecisionRecord]
    /// Cases, newest first, filtered.
    /// Cases matching `query`, newest first.
    func cases(_ query: CaseQuery) async throws -> [CaseRecord]
    /// Cases opened since `since`, counted per day (UTC, the day's start), source and category.
    func inboundCounts(since: Int64) async throws -> [InboundCount]
    /// Decisions since `since`, counted per day (UTC) and outcome (violation, no_violation, upheld, overturned).
    func decisionCounts(since: Int64) async throws -> [DecisionCount]
    /// Cases resolved since `since`, newest first, at most `limit`.
    func resolvedCases(since: Int64, limit: Int) async throws -> [CaseRecord]
    /// The live strikes against `subject` (not expired, not lifted), newest first.
    func liveStrikeList(subject: EntityRef, now: Int64) async throws -> [Strike]
    func queueCounts(now: Int64) async throws -> [QueueCount]
}

/// The outbox: webhook deliveries queued by review plans, delivered at least once, in order per key.
extension OutboxStore {
    /// Pending deliveries to the product's webhook due at `now`.
    public func dueDeliveries(now: Int64, limit: Int) async throws -> [OutboxItem] {
        try await dueDeliveries(now: now, limit: limit, destination: "")
    }
}

public protocol OutboxStore: Sendable {
    /// Pending deliveries to `destination` ("" for the product's webhook, else a channel) due at `now`, oldest first.
    func dueDeliveries(now: Int64, limit: Int, destination: String) async throws -> [OutboxItem]
    /// Records deliveries the receiver accepted (with its status), in one transaction.
    func markDelivered(_ receipts: [(id: Int64, status: Int)], now: Int64) async throws
    /// Records a failed attempt: retried at `retryAt`, or dead-lettered when nil.
    func markFailed(_ id: Int64, error: String, retryAt: Int64?, now: Int64) async throws
    /// Puts dead deliveries (all, or the given ones) back in line; returns how many.
    func redrive(ids: [Int64]?, actor: ActorRef, now: Int64) async throws -> Int
    func outbox(state: OutboxItem.State?, limit: Int) async throws -> [OutboxItem]
}

/// Statements of reasons, for export.
public protocol StatementStore: Sendable {
    /// Statements of reasons made in [from, to), after decision id `after`, oldest first.
    func statements(from: Int64, to: Int64, after: Int64, limit: Int) async throws -> [StoredStatement]
    /// Statements not yet submitted to the Transparency Database (and, with `refused`, those it
    /// or the local check refused), after decision id `after`, oldest first.
    func unsubmittedStatements(after: Int64, limit: Int, refused: Bool) async throws -> [StoredStatement]
    /// Records what became of submitted statements, in one transaction (a later outcome replaces an earlier one).
    func recordSubmissions(_ outcomes: [StatementSubmission], now: Int64) async throws
    /// How many statements there are per submission state (`unsubmitted`, `created`, `already_present`, `refused`).
    func submissionCounts() async throws -> [String: Int]
}

/// What became of one statement sent to the Transparency Database.
public struct StatementSubmission: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// The database created it (`uuid` is its id there).
        case created
        /// The database already held its puid: an earlier submission got there.
        case alreadyPresent = "already_present"
        /// The database, or the check before sending, refused it (`detail` says why).
        case refused
    }

    public var decisionID: Int64
    public var outcome: Outcome
    public var uuid: String?
    public var detail: String?

    public init(decisionID: Int64, outcome: Outcome, uuid: String? = nil, detail: String? = nil) {
        self.decisionID = decisionID
        self.outcome = outcome
        self.uuid = uuid
        self.detail = detail
    }
}

/// The hash-chained audit log.
public protocol AuditStore: Sendable {
    /// Appends an audit entry on its own (for reads of sensitive content and exports).
    func audit(actor: ActorRef, action: String, target: String, detail: String, now: Int64) async throws
    /// Audit entries after `seq`, in order.
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    /// Audit entries before `seq` (nil: from the newest), newest first, with equal `actor` and
    /// `target` and an `action` starting with the one given, when given.
    func auditEntries(before seq: Int64?, actor: String?, action: String?, target: String?, limit: Int) async throws -> [AuditEntry]
    /// The head the store records apart from the log.
    func auditHead() async throws -> (seq: Int64, hash: [UInt8])?
}
