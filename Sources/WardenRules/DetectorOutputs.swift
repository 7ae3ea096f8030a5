import Foundation
public import WardenCore

/// A classifier rules can call inline: text in, a score per taxonomy category out, at once.
public protocol TextScorer: Sendable {
    func scores(of text: String) -> [String: Double]
}

/// What a rule did when it fired.
public enum Effect: Sendable, Equatable {
    /// A finding about a subject.
    case signal(category: String, severity: String, subject: EntityRef?, reason: String?)
    /// A label put on an entity, with its expiry time (ms since the epoch) if any.
    case label(EntityRef, String, expiresAt: Int64?)
    /// A label removed.
    case unlabel(EntityRef, String)
    /// A queue for review.
    case route(queue: String)
    /// A proposed enforcement action.
    case action(String, subject: EntityRef?, durationMillis: Int64?)
    /// A verdict for the synchronous API.
    case verdict(Verdict)
}

/// A detector's state as data, to save and restore.
public struct DetectorSnapshot: Sendable, Codable, Equatable {
    /// Labels of one entity.
    public struct Labelled: Sendable, Codable, Equatable {
        var entity: String
        var labels: [String: LabelEntry]
    }

    /// The snapshot layout; a snapshot of another layout is refused (and the log replayed).
    var format = DetectorSnapshot.currentFormat
    var counters: [String: [SavedWindow]]
    var labels: [Labelled]
    var firstSeen: FirstSeenTimes
    var strikes: [String: Int]
    var hourlyHits: [String: [String: Int]]
    var demoted: [String: String]
    var processed: Int

    /// Canonical bytes: equal states give equal bytes.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var canonical = self
        canonical.labels.sort { $0.entity < $1.entity }
        return Array(try encoder.encode(canonical))
    }

    /// Reads canonical bytes, of this layout or the one before it (format 2 kept first-seen times
    /// by entity text; they are read into hashes, so an upgrade does not replay the log).
    public static func decode(_ bytes: [UInt8]) throws -> DetectorSnapshot {
        var snapshot = try JSONDecoder().decode(DetectorSnapshot.self, from: Data(bytes))
        guard snapshot.format == currentFormat || snapshot.format == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "snapshot format \(snapshot.format), expected \(currentFormat)"))
        }
        snapshot.format = currentFormat
        return snapshot
    }

    static let currentFormat = 3
}

/// First-seen times in a snapshot: `[[key, time], …]` in key order (canonical), each key an entity
/// reference's stable hash as a signed 64-bit number (its bit pattern). Format 2 wrote
/// `{"type:id": time}`; that is read too.
struct FirstSeenTimes: Sendable, Codable, Equatable {
    var byKey: [UInt64: Int64]

    init(_ byKey: [UInt64: Int64]) { self.byKey = byKey }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        byKey = [:]
        if let byText = try? container.decode([String: Int64].self) {
            for (text, time) in byText {
                guard let ref = EntityRef(parsing: text) else { continue }
                let key = StableHash.of(ref)
                byKey[key] = min(byKey[key] ?? time, time)
            }
            return
        }
        let pairs = try container.decode([[Int64]].self)
        byKey.reserveCapacity(pairs.count)
        for pair in pairs {
            guard pair.count == 2 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a first-seen entry is [key, time], not \(pair)")
            }
            let key = UInt64(bitPattern: pair[0])
            byKey[key] = min(byKey[key] ?? pair[1], pair[1])
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(byKey.sorted { $0.key < $1.key }.map { [Int64(bitPattern: $0.key), $0.value] })
    }
}

/// One rule that fired on one event.
public struct RuleHit: Sendable, Equatable {
    /// The rule.
    public var rule: String
    /// Its version.
    public var version: String
    /// Its mode when it fired; shadow hits have no effect.
    public var mode: RuleMode
    /// Its category and severity.
    public var category: String
    /// Severity.
    public var severity: String
    /// What it did (or, for shadow rules, would have done).
    public var effects: [Effect]
    /// Why: the rule's description and the counter values it read.
    public var explanation: String
    /// For a hit that waits for served classifiers: what is left to decide. Its effects are
    /// those the rule will have if the classifiers' answers make it true.
    public var condition: PendingCondition?
}

/// The outcome of one event.
public struct Evaluation: Sendable, Equatable {
    /// Rules that fired, in rule order.
    public var hits: [RuleHit]
    /// The strongest verdict of the active rules that fired (`allow` when none did).
    public var verdict: Verdict
    /// Rules whose other conditions hold and that now wait for classifiers served over an API
    /// (``RuleHit/condition`` says for what). They have not fired.
    public var pending: [RuleHit] = []
    /// A bulk job's step (a `warden.bulk` event): no rule sees such an event; its label change is
    /// already applied, and a case step is for the pipeline to raise as a signal.
    public var instruction: BulkInstruction?
}

/// A label on an entity.
public struct LabelEntry: Sendable, Equatable, Codable {
    /// When it was set (event time, ms).
    public var createdAt: Int64
    /// When it lapses, if it does.
    public var expiresAt: Int64?
}

