public import WardenCore
public import WardenQuality
public import WardenReview

/// What quality reports and QA audits read and write in the store. The store loads and applies;
/// sampling, the QA review's rules and the reports are worked out in WardenQuality.
public protocol QualityStore: Sendable {
    /// Every decision on a review case made in `from ..< to`, with its case's times, the outcome of
    /// the latest decided appeal against the case, and who first escalated it. In decision order.
    func decisionFacts(from: Int64, to: Int64) async throws -> [DecisionFact]
    /// The same decisions in parts, in order, which a store may read at once (a health report reads
    /// a month of them).
    func decisionFactParts(from: Int64, to: Int64) async throws -> [[DecisionFact]]

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
    /// Records models' answers on a QA item (`model:NAME` → `none` or a category), replacing earlier ones.
    func recordModelAnswers(itemID: Int64, _ answers: [String: String]) async throws
    /// The models' answers recorded on these items.
    func modelAnswers(itemIDs: [Int64]) async throws -> [Int64: [String: String]]
}

extension QualityStore {
    public func decisionFactParts(from: Int64, to: Int64) async throws -> [[DecisionFact]] {
        [try await decisionFacts(from: from, to: to)]
    }
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

/// A case's content as a rater sees it, with its queue and latest decision (when decided).
public struct CaseContent: Sendable, Equatable {
    public var caseID: Int64
    public var queue: String
    /// The texts of the case's events (or their bodies where an event has no text), one per line.
    public var text: String
    /// The latest decision's answer (``SessionAnswer``), if the case was decided.
    public var decided: String?

    public init(caseID: Int64, queue: String, text: String, decided: String?) {
        self.caseID = caseID
        self.queue = queue
        self.text = text
        self.decided = decided
    }
}

/// Whether a person holds a queue's certification (what claiming a queue that requires it asks).
/// Golden items mixed unseen into live queues (the review path asks, as it asks about certifications).
public protocol GoldenMixing: Sendable {
    /// Mixes one live golden item of `queue` that was confirmed from a past review case into the
    /// queue as a new case claimed by `reviewer` (`ReviewPlanner.mixGolden`), and returns it; nil when
    /// no item is left for them (one they made, decided at the source, or were given before).
    /// `pick` in 0..<1 chooses among the candidates.
    func mixGolden(queue: String, reviewer: ActorRef, pick: Double, policy: ReviewPolicy, now: Int64) async throws -> CaseRecord?
    /// The golden case a case is a copy of: its source case, when `caseID` is a mixed golden item.
    func goldenSource(caseID: Int64) async throws -> Int64?
    /// Golden items mixed into live queues and decided in `from ..< to`, in decision order.
    func goldenChecks(from: Int64, to: Int64) async throws -> [GoldenCheck]
}

public protocol CertificationLookup: Sendable {
    func isCertified(user: String, queue: String) async throws -> Bool
}

/// Golden items, calibration sessions, training runs and certifications. The store loads and
/// applies; who may do what, and scoring, are worked out in WardenQuality (`SessionPlanner`).
public protocol SessionStore: CertificationLookup {
    func caseContent(caseID: Int64) async throws -> CaseContent?
    /// Stores a golden item (its id given by the store) with its audit entry.
    func addGoldenItem(_ item: GoldenItem, actor: ActorRef) async throws -> GoldenItem
    func goldenItem(id: Int64) async throws -> GoldenItem?
    /// Golden items in id order (of one queue; live only unless `retired`), after id `after`.
    func goldenItems(queue: String?, retired: Bool, after: Int64?, limit: Int) async throws -> [GoldenItem]
    /// How many live (not retired) golden items a queue has.
    func goldenCount(queue: String) async throws -> Int
    func retireGoldenItem(id: Int64, actor: ActorRef, now: Int64) async throws -> GoldenItem
    /// Stores the session `make` builds with the id the store gives it, and its audit entry.
    func createSession(_ make: @Sendable (Int64) throws -> (CalibrationSession, AuditDraft)) async throws -> CalibrationSession
    /// Sessions, newest first, before id `before`: of a kind, that `rater` rates. Without their
    /// ratings and discussion; `rated` counts each rater's ratings.
    func sessions(kind: SessionKind?, rater: String?, before: Int64?, limit: Int) async throws -> [(session: CalibrationSession, rated: [String: Int])]
    func session(id: Int64) async throws -> CalibrationSession?
    /// Applies a command to a session: its rating, note or state, a certification it earns, and
    /// its audit entry in one transaction.
    func commandSession(id: Int64, _ command: SessionCommand, actor: ActorRef, isLead: Bool, scale: Set<String>, now: Int64) async throws -> CalibrationSession
    /// Certifications (of a user, of a queue), revoked ones included.
    func certifications(user: String?, queue: String?) async throws -> [Certification]
    func revokeCertification(user: String, queue: String, reason: String, actor: ActorRef, now: Int64) async throws -> Certification
}

/// Who acknowledged which version of which knowledge article.
public struct ArticleAcknowledgement: Sendable, Equatable {
    public var article: String
    public var version: String
    public var user: String
    public var at: Int64

    public init(article: String, version: String, user: String, at: Int64) {
        self.article = article
        self.version = version
        self.user = user
        self.at = at
    }
}

/// Acknowledgements of knowledge articles (the articles themselves are in the pack).
public protocol ArticleStore: Sendable {
    /// Records that `user` read this version (once; again is a no-op) with its audit entry; returns
    /// the acknowledgement (the first one's time when it was already there).
    func acknowledge(article: String, version: String, user: ActorRef, now: Int64) async throws -> ArticleAcknowledgement
    /// Acknowledgements of one article (every version), or of one user.
    func acknowledgements(article: String?, user: String?) async throws -> [ArticleAcknowledgement]
}

extension CaseContent {
    /// What a case's events say, as one text: each event's `data.text` once (the whole body when it
    /// has none), in log order. Both stores read a case's content with it.
    static func text(ofBodies bodies: [String]) -> String {
        var lines: [String] = []
        for body in bodies {
            if case .string(let text)? = JSONValue.parse(Array(body.utf8))?["data"]?["text"], !text.isEmpty {
                if !lines.contains(text) { lines.append(text) }
            } else {
                lines.append(body)
            }
        }
        return lines.joined(separator: "\n")
    }
}
