import Foundation
import WardenCore

/// A classifier's scores on labelled data, and everything measured from them.
public struct EvaluationReport: Sendable {
    public var labels: [String]
    /// The category ranking metrics are about (the flagged label of a binary task).
    public var positive: String
    public var confusion: ConfusionMatrix
    public var averagePrecision: Double
    public var curve: [PRPoint]
    /// The positive label's scores at the 0.5 threshold, with 95 % bootstrap intervals.
    public var atHalf: CategoryScores
    public var intervals: (precision: ClosedRange<Double>, recall: ClosedRange<Double>, f1: ClosedRange<Double>)
    /// The lowest threshold whose precision reaches the target, if any (most recall at that precision).
    public var recommended: PRPoint?
    public var targetPrecision: Double
    /// Whether each example was predicted right (argmax label), for paired comparisons.
    public var correct: [Bool]

    /// Measures probability rows (one per example, in `labels` order) against true labels.
    public init(truth: [String], probabilities: [[Double]], labels: [String], positive: String, targetPrecision: Double,
                resamples: Int = 1000, seed: UInt64 = 7) {
        self.labels = labels
        self.positive = positive
        self.targetPrecision = targetPrecision
        var confusion = ConfusionMatrix(labels: labels)
        var correct: [Bool] = []
        for (label, row) in zip(truth, probabilities) {
            let predicted = labels[row.indices.max { row[$0] < row[$1] } ?? 0]
            confusion.add(truth: label, prediction: predicted)
            correct.append(predicted == label)
        }
        self.confusion = confusion
        self.correct = correct
        let column = labels.firstIndex(of: positive) ?? 0
        let positives = truth.map { $0 == positive }
        let scores = probabilities.map { $0[column] }
        averagePrecision = Ranking.averagePrecision(positives: positives, scores: scores)
        curve = Ranking.curve(positives: positives, scores: scores)
        atHalf = Ranking.scores(positives: positives, scores: scores, threshold: 0.5)
        // The most recall at that precision; of equal recall, the highest (most cautious) threshold.
        recommended = curve.filter { $0.precision >= targetPrecision }.max { ($0.recall, $0.threshold) < ($1.recall, $1.threshold) }
        var generator = SplitMix64(seed: seed)
        var samples: [CategoryScores] = []
        for _ in 0..<resamples {
            var picked = (positives: [Bool](), scores: [Double]())
            for _ in truth.indices {
                let index = generator.below(truth.count)
                picked.positives.append(positives[index])
                picked.scores.append(scores[index])
            }
            samples.append(Ranking.scores(positives: picked.positives, scores: picked.scores, threshold: 0.5))
        }
        func interval(_ values: [Double]) -> ClosedRange<Double> {
            let sorted = values.sorted()
            guard !sorted.isEmpty else { return 0...0 }
            return sorted[Int(Double(sorted.count - 1) * 0.025)]...sorted[Int(Double(sorted.count - 1) * 0.975)]
        }
        intervals = (interval(samples.map(\.precision)), interval(samples.map(\.recall)), interval(samples.map(\.f1)))
    }
}

/// McNemar's test of two classifiers on the same examples: do they err on different ones more
/// often than chance would have it?
public struct McNemar: Sendable, Equatable {
    /// Examples only the first got right, and only the second.
    public var onlyFirst: Int
    public var onlySecond: Int
    /// The χ² statistic with continuity correction (or nil when the exact test was used).
    public var statistic: Double?
    public var pValue: Double

    public init(firstCorrect: [Bool], secondCorrect: [Bool]) {
        onlyFirst = zip(firstCorrect, secondCorrect).count { $0 && !$1 }
        onlySecond = zip(firstCorrect, secondCorrect).count { !$0 && $1 }
        let discordant = onlyFirst + onlySecond
        if discordant == 0 {
            statistic = nil
            pValue = 1
        } else if discordant < 25 {
            // Exact: two-sided binomial test of the smaller count with p = 1/2.
            statistic = nil
            let smaller = min(onlyFirst, onlySecond)
            var tail = 0.0
            for count in 0...smaller { tail += exp(Self.logChoose(discordant, count) - Double(discordant) * log(2)) }
            pValue = min(1, 2 * tail)
        } else {
            let chi = pow(Double(abs(onlyFirst - onlySecond)) - 1, 2) / Double(discordant)
            statistic = chi
            pValue = erfc((chi / 2).squareRoot())
        }
    }

    private static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }
}
