import WardenCore
import Foundation

/// A case's priority, by one documented formula (docs/review.md):
///
/// - **severity**: `60 × (rank + 1) / levels` (with four levels: low 15, medium 30, high 45, critical 60);
/// - **reporters**: `min(25, 10 × log2(1 + w))`, where `w` is the sum of the distinct reporters'
///   trust (0…1 each; a muted reporter counts 0);
/// - **reach**: `min(15, 5 × log10(1 + n))`, where `n` is how many signals and reports the case has
///   gathered (how widespread the behaviour is).
///
/// The sum, rounded, is the score (0–100); the score gives the band (P1 ≥ 60, P2 ≥ 40, P3 ≥ 20,
/// else P4), and the band picks the queue's SLA targets. Age and SLA risk then order cases within
/// a band: claim-next takes the band first, then the case whose resolution deadline is nearest
/// (business hours and pauses included), so the oldest and most at-risk work goes first.
/// ``urgency(score:waitedMillis:slaUsed:)`` puts the same ingredients into one displayable number.
public enum CasePriority {
    /// Priority bands, most urgent first.
    public enum Band: Int, Sendable, Codable, CaseIterable, Comparable {
        case p1 = 1, p2, p3, p4

        /// `p1` … `p4`.
        public var name: String { "p\(rawValue)" }

        /// Parses `p1` … `p4`.
        public init?(name: String) {
            guard name.count == 2, name.first == "p", let value = Int(name.dropFirst()), let band = Band(rawValue: value) else { return nil }
            self = band
        }

        public static func < (lhs: Band, rhs: Band) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// What the score is made of.
    public struct Inputs: Sendable, Equatable {
        /// 0-based rank of the case's severity among the taxonomy's levels (lowest first).
        public var severityRank: Int
        /// How many severity levels the taxonomy has.
        public var severityLevels: Int
        /// Sum of the distinct reporters' trust.
        public var reporterWeight: Double
        /// Signals plus reports gathered.
        public var reach: Int

        /// Creates the inputs.
        public init(severityRank: Int, severityLevels: Int, reporterWeight: Double, reach: Int) {
            self.severityRank = severityRank
            self.severityLevels = severityLevels
            self.reporterWeight = reporterWeight
            self.reach = reach
        }
    }

    /// The score, 0–100.
    public static func score(_ inputs: Inputs) -> Int {
        let levels = max(1, inputs.severityLevels)
        let rank = min(max(0, inputs.severityRank), levels - 1)
        let severity = 60.0 * Double(rank + 1) / Double(levels)
        let reporters = min(25.0, 10.0 * log2(1.0 + max(0, inputs.reporterWeight)))
        let reach = min(15.0, 5.0 * log10(1.0 + Double(max(0, inputs.reach))))
        return min(100, Int((severity + reporters + reach).rounded()))
    }

    /// The band of a score.
    public static func band(score: Int) -> Band {
        switch score {
        case 60...: .p1
        case 40..<60: .p2
        case 20..<40: .p3
        default: .p4
        }
    }

    /// The score plus age (a point per hour waited, at most 10) and SLA risk (nothing until half
    /// the resolution target is used, then up to 20 at the deadline, 25 once breached).
    public static func urgency(score: Int, waitedMillis: Int64, slaUsed: Double?) -> Int {
        let age = min(10, Int(max(0, waitedMillis) / 3_600_000))
        var risk = 0
        if let used = slaUsed {
            if used >= 1 { risk = 25 } else if used > 0.5 { risk = Int((40 * (used - 0.5)).rounded()) }
        }
        return score + age + risk
    }
}
