public import WardenCore

/// What a case is for.
public enum CaseKind: String, Sendable, Codable, CaseIterable {
    /// A review of signals and reports about a subject.
    case review
    /// An appeal of another case's decision.
    case appeal
}

/// A review case: who or what it is about, where it waits, its priority and its SLA clock.
public struct CaseRecord: Sendable, Equatable {
    public var id: Int64
    public var kind: CaseKind
    /// Whom or what it is about (`user:u1`, `content:c9`).
    public var subject: EntityRef
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
    public var assignee: ActorRef?
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
    public var excludedReviewer: ActorRef?
    /// Why it was last escalated.
    public var escalationReason: String?

    /// Creates a case record with every field given.
    public init(id: Int64, kind: CaseKind, subject: EntityRef, source: CaseSource, queue: String, state: CaseState, category: String,
                severity: String, score: Int, band: CasePriority.Band, signals: Int, reports: Int, reporterWeight: Double,
                assignee: ActorRef?, leaseExpiresAt: Int64?, createdAt: Int64, updatedAt: Int64, contentAt: Int64, firstActionAt: Int64?,
                resolvedAt: Int64?, clock: SLAClock, dueAt: Int64, slaNextAt: Int64?, slaRaised: Int, appealOf: Int64?,
                excludedReviewer: ActorRef?, escalationReason: String?) {
        self.id = id
        self.kind = kind
        self.subject = subject
        self.source = source
        self.queue = queue
        self.state = state
        self.category = category
        self.severity = severity
        self.score = score
        self.band = band
        self.signals = signals
        self.reports = reports
        self.reporterWeight = reporterWeight
        self.assignee = assignee
        self.leaseExpiresAt = leaseExpiresAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.contentAt = contentAt
        self.firstActionAt = firstActionAt
        self.resolvedAt = resolvedAt
        self.clock = clock
        self.dueAt = dueAt
        self.slaNextAt = slaNextAt
        self.slaRaised = slaRaised
        self.appealOf = appealOf
        self.excludedReviewer = excludedReviewer
        self.escalationReason = escalationReason
    }

    /// A new, open case with nothing gathered yet: the planners fill in what opened it.
    public static func opened(id: Int64, kind: CaseKind, subject: EntityRef, source: CaseSource, queue: String, category: String,
                              severity: String, contentAt: Int64, policy: ReviewPolicy, now: Int64) -> CaseRecord {
        CaseRecord(id: id, kind: kind, subject: subject, source: source, queue: queue, state: .open, category: category, severity: severity,
                   score: 0, band: .p4, signals: 0, reports: 0, reporterWeight: 0, assignee: nil, leaseExpiresAt: nil, createdAt: now,
                   updatedAt: now, contentAt: contentAt, firstActionAt: nil, resolvedAt: nil,
                   clock: .start(at: now, state: .open, policy: policy.sla(of: queue)), dueAt: ReviewPolicy.noDeadline, slaNextAt: nil,
                   slaRaised: 0, appealOf: nil, excludedReviewer: nil, escalationReason: nil)
    }
}

/// A signal or report for the case builder to merge.
public struct CaseInput: Sendable, Equatable {
    /// What is merged.
    public enum Kind: String, Sendable, Codable { case signal, report }
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

    /// Creates an input.
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

/// One entry of a case's timeline.
public struct TimelineEntry: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case created, transition, signal, report, comment, handoff, consult, decision, action, reversal, sla, note
        case consultAnswer = "consult_answer"
    }

    public var id: Int64
    public var at: Int64
    public var actor: ActorRef
    public var kind: Kind
    public var fromState: CaseState?
    public var toState: CaseState?
    /// Details as a JSON object.
    public var detail: String

    /// Creates an entry.
    public init(id: Int64, at: Int64, actor: ActorRef, kind: Kind, fromState: CaseState?, toState: CaseState?, detail: String) {
        self.id = id
        self.at = at
        self.actor = actor
        self.kind = kind
        self.fromState = fromState
        self.toState = toState
        self.detail = detail
    }
}

/// What a case-moving request carries besides its command.
public enum CaseChange: Sendable, Equatable {
    /// A lifecycle command (release, hold, resume, close); `note` goes on the timeline.
    case command(CaseCommand, note: String?)
    /// Escalate to another queue with a reason.
    case escalate(queue: String, reason: String)
    /// Give the case to a named reviewer (the lease moves with it).
    case handoff(to: ActorRef, note: String?)
    /// Ask another reviewer for an opinion (the holder keeps the case).
    case consult(with: ActorRef, question: String)
    /// Add a comment.
    case comment(String)
    /// Renew the lease (activity).
    case renew
    /// A lead's move: give the case to `reviewer` whoever holds it (a waiting case is claimed for
    /// them), or with nil take it from its holder back to its queue (a stale lease). Callers make
    /// sure the actor may run review (a lead).
    case reassign(to: ActorRef?, note: String?)
}

/// A question one reviewer asked another about a case, and its answer.
public struct ConsultRecord: Sendable, Equatable {
    public var id: Int64
    public var caseID: Int64
    /// Who asked (the case's holder then) and whom.
    public var askedBy: ActorRef
    public var reviewer: ActorRef
    public var question: String
    public var askedAt: Int64
    public var answer: String?
    public var answeredAt: Int64?
    /// The case as it is now: its queue, state, subject, category and holder.
    public var queue: String
    public var state: CaseState
    public var subject: EntityRef
    public var category: String
    public var assignee: ActorRef?

    /// Creates a consult record.
    public init(id: Int64, caseID: Int64, askedBy: ActorRef, reviewer: ActorRef, question: String, askedAt: Int64, answer: String?,
                answeredAt: Int64?, queue: String, state: CaseState, subject: EntityRef, category: String, assignee: ActorRef?) {
        self.id = id
        self.caseID = caseID
        self.askedBy = askedBy
        self.reviewer = reviewer
        self.question = question
        self.askedAt = askedAt
        self.answer = answer
        self.answeredAt = answeredAt
        self.queue = queue
        self.state = state
        self.subject = subject
        self.category = category
        self.assignee = assignee
    }
}

/// A reporter's standing: how much their reports weigh and their record.
public struct ReporterRecord: Sendable, Equatable {
    public var id: String
    /// 0–1: the weight of their reports.
    public var trust: Double
    /// A muted reporter's reports weigh nothing.
    public var muted: Bool
    public var reports: Int
    public var upheld: Int
    public var rejected: Int

    /// Creates a reporter record.
    public init(id: String, trust: Double, muted: Bool, reports: Int, upheld: Int, rejected: Int) {
        self.id = id
        self.trust = trust
        self.muted = muted
        self.reports = reports
        self.upheld = upheld
        self.rejected = rejected
    }

    /// A reporter seen for the first time.
    public static func new(_ id: String, trust: Double) -> ReporterRecord {
        ReporterRecord(id: id, trust: trust, muted: false, reports: 0, upheld: 0, rejected: 0)
    }

    /// The record after a decision on a case they reported: trust is the mean of a Beta prior worth
    /// two reports at `prior` and their upheld share, `(upheld + 2·prior) / (upheld + rejected + 2)`.
    public func judged(upheld wasUpheld: Bool, prior: Double) -> ReporterRecord {
        var next = self
        if wasUpheld { next.upheld += 1 } else { next.rejected += 1 }
        next.trust = (Double(next.upheld) + 2 * prior) / (Double(next.upheld + next.rejected) + 2)
        return next
    }
}
