import WardenCore

/// A rule hit waiting for classifiers served over an API: detection evaluated everything else
/// about the event and stored what the rule will do if the classifiers' answers make it true.
/// The classification stage asks them and settles the job: fired (the signal is written then),
/// not fired, or failed. Unique per (event, rule, rule version), like signals.
public struct ClassificationJob: Sendable, Equatable {
    /// The store's id (newer jobs have larger ids); 0 before it is stored.
    public var id: Int64
    /// The signal the hit becomes if it fires (for a shadow rule: only counted). Its `id` and
    /// `createdAt` are set when it fires.
    public var signal: StoredSignal
    /// `active` or `shadow`.
    public var mode: String
    /// What is left to decide, as JSON (a `PendingCondition` of WardenRules).
    public var condition: String
    /// `pending`, `fired`, `not_fired` or `failed`.
    public var state: String
    /// Attempts made so far.
    public var attempts: Int
    /// When it may next be tried (ms).
    public var nextAttemptAt: Int64
    /// Why the last attempt failed, if it did.
    public var lastError: String?
    /// The classifiers' answers, as JSON, once settled.
    public var answers: String?
    /// When detection stored it and when it was settled (ms).
    public var createdAt: Int64
    public var settledAt: Int64?

    /// A new pending job.
    public init(signal: StoredSignal, mode: String, condition: String, createdAt: Int64) {
        id = 0
        self.signal = signal
        self.mode = mode
        self.condition = condition
        state = "pending"
        attempts = 0
        nextAttemptAt = createdAt
        self.createdAt = createdAt
    }

    /// The states a job can be in.
    public static let states = ["pending", "fired", "not_fired", "failed"]
}

/// How an attempt at a job ended.
public enum ClassificationSettlement: Sendable {
    /// The rule fired: its signal (for an active rule) is written with this explanation. With
    /// `demoted`, the safety valve demoted the rule: the hit counts as shadow and a `safety_valve`
    /// signal with the reason (at the given severity) is written instead.
    case fired(explanation: String, answers: String, demoted: (reason: String, severity: String)? = nil)
    /// The answers did not make the rule true.
    case notFired(answers: String)
    /// No answer this time; try again at the given time.
    case retry(error: String, at: Int64)
    /// No answer, and no more attempts.
    case failed(error: String)
}

/// Storage for classification jobs. Detection adds them with its batch (``DetectionBatch/jobs``).
public protocol ClassificationJobStore: Sendable {
    /// Pending jobs due at `now`, oldest first.
    func dueClassificationJobs(at now: Int64, limit: Int) async throws -> [ClassificationJob]
    /// Records an attempt's end. A fired active rule's signal and the rule's hit count are
    /// written in the same transaction. Only a pending job is settled: false if the job was
    /// already settled (so nothing happens twice).
    @discardableResult
    func settleClassificationJob(id: Int64, _ settlement: ClassificationSettlement, at now: Int64) async throws -> Bool
    /// Jobs newest first, optionally in one state, before an id (cursor).
    func classificationJobs(state: String?, before id: Int64?, limit: Int) async throws -> [ClassificationJob]
    /// How many jobs are in each state.
    func classificationJobCounts() async throws -> [String: Int]
}
