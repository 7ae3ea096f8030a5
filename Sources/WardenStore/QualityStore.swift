public import WardenQuality

/// What quality reports read from the store (loads only; the reports are computed in WardenQuality).
public protocol QualityStore: Sendable {
    /// Every decision on a review case made in `from ..< to`, with its case's times, the outcome of
    /// the latest decided appeal against the case, and who first escalated it. In decision order.
    func decisionFacts(from: Int64, to: Int64) async throws -> [DecisionFact]
}
