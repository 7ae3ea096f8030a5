import WardenCore

/// The outcome of k-fold cross-validation.
public struct CrossValidationReport: Sendable {
    /// The confusion matrix of each fold's held-out examples.
    public var folds: [ConfusionMatrix]
    /// All folds pooled.
    public var pooled: ConfusionMatrix

    /// The mean over folds of one category's F1 (as scikit-learn's `cross_val_score` reports it).
    public func meanF1(of label: String) -> Double {
        folds.map { $0.scores(of: label).f1 }.reduce(0, +) / Double(max(folds.count, 1))
    }
}

public enum CrossValidation {
    /// Assigns each example to one of `k` folds, stratified: every label is spread evenly over
    /// the folds, in an order shuffled by `seed`.
    public static func stratifiedFolds(_ labels: [String], k: Int, seed: UInt64) -> [Int] {
        var generator = SplitMix64(seed: seed)
        var fold = [Int](repeating: 0, count: labels.count)
        var next = 0
        for label in Set(labels).sorted() {
            var members = labels.indices.filter { labels[$0] == label }
            members.shuffle(using: &generator)
            for member in members {
                fold[member] = next % k
                next += 1
            }
        }
        return fold
    }

    /// Trains on k−1 folds and tests on the held-out one, k times.
    public static func run(_ examples: [LabelledText], k: Int = 5, seed: UInt64 = 7, kind: TextModel.Kind,
                           featurizer: TextFeaturizer = TextFeaturizer(), options: TrainingOptions = TrainingOptions(),
                           progress: (Int) -> Void = { _ in }) throws(TrainingError) -> CrossValidationReport {
        guard k >= 2, examples.count >= k else { throw TrainingError("cross-validation needs k ≥ 2 and at least k examples") }
        let fold = stratifiedFolds(examples.map(\.label), k: k, seed: seed)
        let labels = Array(Set(examples.map(\.label))).sorted()
        var folds: [ConfusionMatrix] = []
        var pooled = ConfusionMatrix(labels: labels)
        for held in 0..<k {
            let training = examples.indices.filter { fold[$0] != held }.map { examples[$0] }
            let model = try TextModel.train(training, kind: kind, featurizer: featurizer, options: options)
            var matrix = ConfusionMatrix(labels: labels)
            for index in examples.indices where fold[index] == held {
                matrix.add(truth: examples[index].label, prediction: model.predict(examples[index].text))
            }
            folds.append(matrix)
            pooled.add(matrix)
            progress(held + 1)
        }
        return CrossValidationReport(folds: folds, pooled: pooled)
    }
}
