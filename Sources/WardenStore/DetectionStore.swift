public import WardenCore

/// A signal as stored: one rule hit on one event, or an SLA warning or breach on a review case.
public struct StoredSignal: Sendable, Equatable {
    /// The store's id (newer signals have larger ids).
    public var id: Int64
    /// The event it was raised on (nil for a signal about a case).
    public var eventSeq: Int64?
    /// The review case it is about, for SLA signals (rule `sla`); such signals never open cases.
    public var caseID: Int64?
    /// The rule that raised it.
    public var rule: String
    /// That rule's version.
    public var ruleVersion: String
    /// Taxonomy category.
    public var category: String
    /// Severity.
    public var severity: String
    /// Whom it is about.
    public var subject: EntityRef?
    /// The rule's stated reason, if any.
    public var reason: String?
    /// Why it fired: the rule's description and the counter values it read.
    public var explanation: String
    /// The review queue it was routed to.
    public var queue: String?
    /// The verdict the rule returned.
    public var verdict: String?
    /// Every effect of the hit, as JSON.
    public var effects: String
    /// When the event happened (ms).
    public var occurredAt: Int64
    /// When the signal was committed (ms).
    public var createdAt: Int64

    /// Creates a signal (the store assigns `id` on insert).
    public init(id: Int64 = 0, eventSeq: Int64?, caseID: Int64? = nil, rule: String, ruleVersion: String, category: String, severity: String, subject: EntityRef?,
                reason: String?, explanation: String, queue: String?, verdict: String?, effects: String, occurredAt: Int64, createdAt: Int64) {
        self.id = id
        self.eventSeq = eventSeq
        self.caseID = caseID
        self.rule = rule
        self.ruleVersion = ruleVersion
        self.category = category
        self.severity = severity
        self.subject = subject
        self.reason = reason
        self.explanation = explanation
        self.queue = queue
        self.verdict = verdict
        self.effects = effects
        self.occurredAt = occurredAt
        self.createdAt = createdAt
    }
}

/// A label change made by a rule.
public enum LabelChange: Sendable, Equatable {
    /// Set (or extend) a label.
    case set(entity: EntityRef, name: String, source: String, createdAt: Int64, expiresAt: Int64?)
    /// Remove a label.
    case remove(entity: EntityRef, name: String)
}

/// A stored label.
public struct StoredLabel: Sendable, Equatable {
    /// The label.
    public var name: String
    /// What set it, such as `rule:signup_farm_ip@1a2b3c4d5e6f`.
    public var source: String
    /// When it was first set (ms).
    public var createdAt: Int64
    /// When it lapses (ms), if it does.
    public var expiresAt: Int64?
}

/// Hits of one rule version in one hour.
public struct RuleHitCount: Sendable, Equatable {
    /// The rule.
    public var rule: String
    /// Its version.
    public var version: String
    /// `active` or `shadow`.
    public var mode: String
    /// Hours since the epoch.
    public var hour: Int64
    /// Hits in that hour.
    public var hits: Int

    /// Creates a count.
    public init(rule: String, version: String, mode: String, hour: Int64, hits: Int) {
        self.rule = rule
        self.version = version
        self.mode = mode
        self.hour = hour
        self.hits = hits
    }
}

/// What detection produced for a run of events, committed together with its cursor.
public struct DetectionBatch: Sendable {
    /// Signals of active hits.
    public var signals: [StoredSignal] = []
    /// Label changes of active hits.
    public var labels: [LabelChange] = []
    /// Hit counts to add.
    public var hits: [RuleHitCount] = []
    /// Hits waiting for served classifiers.
    public var jobs: [ClassificationJob] = []
    /// The last event processed.
    public var throughSeq: Int64

    /// An empty batch ending at `throughSeq`.
    public init(throughSeq: Int64) {
        self.throughSeq = throughSeq
    }
}

/// Storage for detection's output. Committing a batch and its cursor is one transaction, and
/// signals are unique by (event, rule, rule version), so a crash and replay never doubles them.
/// Hits waiting for served classifiers are part of the output (jobs the classification stage settles).
public protocol DetectionStore: ClassificationJobStore {
    /// The last event detection has committed.
    func detectionCursor() async throws -> Int64
    /// Writes a batch's signals, labels and hit counts and moves the cursor, atomically.
    func commitDetection(_ batch: DetectionBatch) async throws
    /// Signals newest first, optionally about one subject or from one rule, before an id (cursor).
    func signals(before id: Int64?, limit: Int, subject: EntityRef?, rule: String?) async throws -> [StoredSignal]
    /// An entity's live labels at `time`.
    func labels(of entity: EntityRef, at time: Int64) async throws -> [StoredLabel]
    /// Hit counts per rule version and hour since `hour`.
    func ruleHits(sinceHour hour: Int64) async throws -> [RuleHitCount]
    /// Per rule: cases its signals joined that reviewers decided, and how many of those they found
    /// a violation (precision as review measures it).
    func rulePrecision() async throws -> [String: (violations: Int, decided: Int)]
    /// Saves detection's state as of event `seq` (replacing the previous snapshot).
    func saveDetectionSnapshot(seq: Int64, takenAt: Int64, data: [UInt8]) async throws
    /// The latest snapshot: the event it is as of, and its bytes.
    func detectionSnapshot() async throws -> (seq: Int64, data: [UInt8])?
}

/// A rule version that was put in force.
public struct RuleVersionRecord: Sendable, Equatable {
    /// The rule.
    public var rule: String
    /// Its version.
    public var version: String
    /// Its mode when first activated.
    public var mode: String
    /// Its source text.
    public var source: String
    /// When it first became active (ms).
    public var firstActiveAt: Int64
    /// The pack version it came with.
    public var packVersion: String

    /// Creates a record.
    public init(rule: String, version: String, mode: String, source: String, firstActiveAt: Int64, packVersion: String) {
        self.rule = rule
        self.version = version
        self.mode = mode
        self.source = source
        self.firstActiveAt = firstActiveAt
        self.packVersion = packVersion
    }
}

/// An attempt to change the policy pack in force.
public struct PackChange: Sendable, Equatable {
    /// When (ms).
    public var at: Int64
    /// Who: a token id, `file-watch` or `startup`.
    public var actor: String
    /// The pack version tried.
    public var packVersion: String?
    /// `activated`, `rejected` or `unchanged`.
    public var outcome: String
    /// What happened, such as the pack's problems.
    public var detail: String

    /// Creates a change record.
    public init(at: Int64, actor: String, packVersion: String?, outcome: String, detail: String) {
        self.at = at
        self.actor = actor
        self.packVersion = packVersion
        self.outcome = outcome
        self.detail = detail
    }
}

/// The history of rule versions and pack changes: every version ever active is kept.
public protocol RuleHistoryStore: Sendable {
    /// Records a pack change and the rule versions it activated (versions already known are kept as they were).
    func record(_ change: PackChange, activating versions: [RuleVersionRecord]) async throws
    /// Every rule version ever active, oldest first.
    func ruleVersions() async throws -> [RuleVersionRecord]
    /// Pack changes, newest first.
    func packChanges(limit: Int) async throws -> [PackChange]
}
