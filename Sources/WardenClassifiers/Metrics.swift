/// Precision, recall and F1 of one category (or an average).
public struct CategoryScores: Sendable, Equatable, Codable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Examples whose true label is the category.
    public var support: Int

    init(truePositives: Int, falsePositives: Int, falseNegatives: Int) {
        precision = truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives)
        recall = truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives)
        f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
        support = truePositives + falseNegatives
    }

    init(precision: Double, recall: Double, f1: Double, support: Int) {
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
    }
}

/// Counts of (true label, predicted label) over a set of examples.
public struct ConfusionMatrix: Sendable, Equatable {
    public let labels: [String]
    /// `counts[truth][prediction]`, in `labels` order.
    public private(set) var counts: [[Int]]

    public init(labels: [String]) {
        self.labels = labels
        counts = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
    }

    public mutating func add(truth: String, prediction: String) {
        guard let row = labels.firstIndex(of: truth), let column = labels.firstIndex(of: prediction) else { return }
        counts[row][column] += 1
    }

    public mutating func add(_ other: ConfusionMatrix) {
        for row in labels.indices {
            for column in labels.indices { counts[row][column] += other.counts[row][column] }
        }
    }

    /// Scores of one category.
    public func scores(of label: String) -> CategoryScores {
        guard let index = labels.firstIndex(of: label) else { return CategoryScores(truePositives: 0, falsePositives: 0, falseNegatives: 0) }
        let truePositives = counts[index][index]
        let falsePositives = labels.indices.reduce(0) { $0 + ($1 == index ? 0 : counts[$1][index]) }
        let falseNegatives = labels.indices.reduce(0) { $0 + ($1 == index ? 0 : counts[index][$1]) }
        return CategoryScores(truePositives: truePositives, falsePositives: falsePositives, falseNegatives: falseNegatives)
    }

    /// The unweighted mean over categories.
    public var macro: CategoryScores {
        let all = labels.map(scores(of:))
        let count = Double(max(all.count, 1))
        return CategoryScores(precision: all.map(\.precision).reduce(0, +) / count, recall: all.map(\.recall).reduce(0, +) / count,
                              f1: all.map(\.f1).reduce(0, +) / count, support: all.map(\.support).reduce(0, +))
    }

    /// Pooled over categories (for single-label data, all three equal accuracy).
    public var micro: CategoryScores {
        let correct = labels.indices.reduce(0) { $0 + counts[$1][$1] }
        let total = counts.joined().reduce(0, +)
        return CategoryScores(truePositives: correct, falsePositives: total - correct, falseNegatives: total - correct)
    }
}

/// A point of a precision-recall curve: predicting positive at `score >= threshold`.
public struct PRPoint: Sendable, Equatable, Codable {
    public var threshold: Double
    public var precision: Double
    public var recall: Double
}

/// Ranking metrics for one category: positives and their scores.
public enum Ranking {
    /// The precision-recall curve at every distinct score, highest threshold first.
    public static func curve(positives: [Bool], scores: [Double]) -> [PRPoint] {
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let totalPositives = positives.filter { $0 }.count
        var points: [PRPoint] = []
        var truePositives = 0, predicted = 0
        for (rank, index) in order.enumerated() {
            predicted += 1
            if positives[index] { truePositives += 1 }
            // Tied scores are one threshold: record after the last of them.
            if rank + 1 < order.count, scores[order[rank + 1]] == scores[index] { continue }
            points.append(PRPoint(threshold: scores[index], precision: Double(truePositives) / Double(predicted),
                                  recall: totalPositives == 0 ? 0 : Double(truePositives) / Double(totalPositives)))
        }
        return points
    }

    /// Average precision as scikit-learn computes it: the sum over thresholds of precision times
    /// the gain in recall (no interpolation).
    public static func averagePrecision(positives: [Bool], scores: [Double]) -> Double {
        var previousRecall = 0.0
        var total = 0.0
        for point in curve(positives: positives, scores: scores) {
            total += (point.recall - previousRecall) * point.precision
            previousRecall = point.recall
        }
        return total
    }

    /// Precision, recall and F1 predicting positive at `score >= threshold`.
    public static func scores(positives: [Bool], scores: [Double], threshold: Double) -> CategoryScores {
        var truePositives = 0, falsePositives = 0, falseNegatives = 0
        for (positive, score) in zip(positives, scores) {
            switch (positive, score >= threshold) {
            case (true, true): truePositives += 1
            case (false, true): falsePositives += 1
            case (true, false): falseNegatives += 1
            case (false, false): break
            }
        }
        return CategoryScores(truePositives: truePositives, falsePositives: falsePositives, falseNegatives: falseNegatives)
    }
}
