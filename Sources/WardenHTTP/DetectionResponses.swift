import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenRules
import WardenStore

/// A page of signals, newest first.
struct SignalList: ResponseEncodable {
    struct Signal: Encodable {
        var id: Int64
        var eventSeq: Int64?
        var caseID: Int64?
        var rule: String
        var ruleVersion: String
        var category: String
        var severity: String
        var subject: String?
        var reason: String?
        var explanation: String
        var queue: String?
        var verdict: String?
        var effects: JSONValue
        var occurredAt: String
        var createdAt: String
    }

    var signals: [Signal]
    var nextBefore: Int64?

    init(_ signals: [StoredSignal], nextBefore: Int64?) {
        self.signals = signals.map { signal in
            Signal(id: signal.id, eventSeq: signal.eventSeq, caseID: signal.caseID, rule: signal.rule, ruleVersion: signal.ruleVersion,
                   category: signal.category, severity: signal.severity, subject: signal.subject?.description, reason: signal.reason,
                   explanation: signal.explanation, queue: signal.queue, verdict: signal.verdict,
                   effects: JSONValue.parse(Array(signal.effects.utf8)) ?? .array([]), occurredAt: Timestamp.formatRFC3339(signal.occurredAt),
                   createdAt: Timestamp.formatRFC3339(signal.createdAt))
        }
        self.nextBefore = nextBefore
    }
}

/// Rule hits that waited for served classifiers, with a count per state.
struct ClassificationList: ResponseEncodable {
    struct Job: Encodable {
        var id: Int64
        var state: String
        var eventSeq: Int64
        var rule: String
        var ruleVersion: String
        var mode: String
        var category: String
        var subject: String?
        var explanation: String
        var waitingFor: String?
        var attempts: Int
        var lastError: String?
        var answers: JSONValue?
        var occurredAt: String
        var createdAt: String
        var nextAttemptAt: String?
        var settledAt: String?
    }

    var counts: [String: Int]
    var classifications: [Job]
    var nextBefore: Int64?

    init(_ jobs: [ClassificationJob], counts: [String: Int], nextBefore: Int64?) {
        self.counts = Dictionary(uniqueKeysWithValues: ClassificationJob.states.map { ($0, counts[$0] ?? 0) })
        classifications = jobs.map { job in
            Job(id: job.id, state: job.state, eventSeq: job.signal.eventSeq ?? 0, rule: job.signal.rule, ruleVersion: job.signal.ruleVersion,
                mode: job.mode, category: job.signal.category, subject: job.signal.subject?.description, explanation: job.signal.explanation,
                waitingFor: (try? JSONDecoder().decode(PendingCondition.self, from: Data(job.condition.utf8)))?.describe(), attempts: job.attempts,
                lastError: job.lastError, answers: job.answers.flatMap { JSONValue.parse(Array($0.utf8)) },
                occurredAt: Timestamp.formatRFC3339(job.signal.occurredAt), createdAt: Timestamp.formatRFC3339(job.createdAt),
                nextAttemptAt: job.state == "pending" ? Timestamp.formatRFC3339(job.nextAttemptAt) : nil,
                settledAt: job.settledAt.map(Timestamp.formatRFC3339))
        }
        self.nextBefore = nextBefore
    }
}

/// The rules in force with their hits over the last 24 hours.
struct RuleList: ResponseEncodable {
    struct Rule: Encodable {
        var name: String
        var description: String?
        var category: String
        var severity: String
        var mode: String
        /// Why the safety valve demoted it to shadow, if it did.
        var demoted: String?
        var budgetPerHour: Int
        var version: String
        var owner: String?
        var location: String
        var hits24h: Int
        var hitsByHour: [Hour]

        enum CodingKeys: String, CodingKey {
            case name, description, category, severity, mode, demoted, budgetPerHour, version, owner, location, hitsByHour
            case hits24h = "hits_24h"
        }
    }

    struct Hour: Encodable {
        var hour: String
        var mode: String
        var hits: Int
    }

    var rules: [Rule]
}

/// Every rule version ever activated, and the latest pack changes.
struct RuleHistory: ResponseEncodable {
    struct Version: Encodable {
        var rule: String
        var version: String
        var mode: String
        var firstActiveAt: String
        var packVersion: String
        var source: String
    }

    struct Change: Encodable {
        var at: String
        var actor: String
        var packVersion: String?
        var outcome: String
        var detail: String
    }

    var versions: [Version]
    var changes: [Change]
}

/// What a pack reload did.
struct ReloadResponse: ResponseEncodable {
    var outcome: String
    var version: String
    var rules: Int
}

/// The taxonomy of the pack in force.
struct TaxonomyResponse: ResponseEncodable {
    var pack: String
    var version: String
    var taxonomy: Taxonomy
}

/// A health answer.
struct StatusResponse: ResponseEncodable {
    var status: String
}

/// A signed-in session.
struct SessionResponse: ResponseEncodable {
    var user: String
    var role: Role
    var scopes: [String]
    var queues: [String]?
    var csrfToken: String
    var expiresAt: String
}

/// Who the caller is and what they may do.
struct CallerResponse: ResponseEncodable {
    var actor: String
    var role: Role?
    var scopes: [String]
    var queues: [String]?
}

/// A moderation answer in the shape of OpenAI's moderation API.
struct ModerationResponse: ResponseEncodable {
    struct Result: Encodable {
        var flagged: Bool
        var categories: [String: Bool]
        var categoryScores: [String: Double]
    }

    var id: String
    var model: String
    var results: [Result]
}
