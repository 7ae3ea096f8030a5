import Foundation
import WardenCore

/// A text with its label, for training and evaluation.
public struct LabelledText: Sendable, Equatable {
    public var text: String
    public var label: String

    public init(text: String, label: String) {
        self.text = text
        self.label = label
    }
}

/// How a model is trained.
public struct TrainingOptions: Sendable, Equatable {
    /// Passes over the data (logistic regression).
    public var epochs = 10
    /// The initial step (AdaGrad scales it per weight).
    public var learningRate: Float = 0.5
    /// Additive smoothing (naive Bayes).
    public var smoothing: Float = 0.1
    /// Shuffles the examples between passes.
    public var seed: UInt64 = 7

    public init() {}
}

/// A trained text model over hashed features: multinomial logistic regression or multinomial
/// naive Bayes. Pure Swift, one core, no dependencies.
public struct TextModel: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case logisticRegression = "logistic_regression"
        case naiveBayes = "naive_bayes"
    }

    public private(set) var kind: Kind
    /// The labels, in the order of scores.
    public private(set) var labels: [String]
    public private(set) var featurizer: TextFeaturizer
    /// One row of `featurizer.dimension` weights per label.
    private var weights: [Float]
    private var bias: [Float]

    /// Trains a model on labelled texts (at least two labels).
    public static func train(_ examples: [LabelledText], kind: Kind, featurizer: TextFeaturizer = TextFeaturizer(),
                             options: TrainingOptions = TrainingOptions()) throws(TrainingError) -> TextModel {
        let labels = Array(Set(examples.map(\.label))).sorted()
        guard labels.count >= 2 else { throw TrainingError("training needs at least two labels; found \(labels.count)") }
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let vectors = examples.map { featurizer.features(of: $0.text) }
        let targets = examples.map { index[$0.label] ?? 0 }
        var model = TextModel(kind: kind, labels: labels, featurizer: featurizer,
                              weights: Array(repeating: 0, count: labels.count * featurizer.dimension),
                              bias: Array(repeating: 0, count: labels.count))
        switch kind {
        case .logisticRegression: model.fitLogistic(vectors, targets, options)
        case .naiveBayes: model.fitBayes(vectors, targets, options)
        }
        return model
    }

    /// The probability of each label, in `labels` order.
    public func probabilities(of text: String) -> [Double] {
        probabilities(featurizer.features(of: text))
    }

    /// The most probable label.
    public func predict(_ text: String) -> String {
        let scores = probabilities(of: text)
        return labels[scores.indices.max { scores[$0] < scores[$1] } ?? 0]
    }

    func probabilities(_ vector: SparseVector) -> [Double] {
        var logits = [Double](repeating: 0, count: labels.count)
        let dimension = featurizer.dimension
        weights.withUnsafeBufferPointer { weights in
            for label in labels.indices {
                let row = label * dimension
                var sum = Double(bias[label])
                for (position, feature) in vector.indices.enumerated() {
                    // Naive Bayes counts presence; logistic regression weighs the unit-length value.
                    sum += Double(weights[row + Int(feature)]) * (kind == .naiveBayes ? 1 : Double(vector.values[position]))
                }
                logits[label] = sum
            }
        }
        return Self.softmax(logits)
    }

    static func softmax(_ logits: [Double]) -> [Double] {
        let top = logits.max() ?? 0
        let exps = logits.map { exp($0 - top) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    /// Multinomial logistic regression by AdaGrad on the cross-entropy, examples shuffled per pass.
    private mutating func fitLogistic(_ vectors: [SparseVector], _ targets: [Int], _ options: TrainingOptions) {
        let dimension = featurizer.dimension
        var squared = [Float](repeating: 1e-8, count: weights.count)
        var biasSquared = [Float](repeating: 1e-8, count: bias.count)
        var order = Array(vectors.indices)
        var generator = SplitMix64(seed: options.seed)
        for _ in 0..<options.epochs {
            order.shuffle(using: &generator)
            for example in order {
                let vector = vectors[example]
                let predicted = probabilities(vector)
                for label in labels.indices {
                    let error = Float(predicted[label]) - (label == targets[example] ? 1 : 0)
                    guard error != 0 else { continue }
                    let row = label * dimension
                    for (position, feature) in vector.indices.enumerated() {
                        let slot = row + Int(feature)
                        let gradient = error * vector.values[position]
                        squared[slot] += gradient * gradient
                        weights[slot] -= options.learningRate * gradient / squared[slot].squareRoot()
                    }
                    biasSquared[label] += error * error
                    bias[label] -= options.learningRate * error / biasSquared[label].squareRoot()
                }
            }
        }
    }

    /// Multinomial naive Bayes over feature presence, with additive smoothing.
    private mutating func fitBayes(_ vectors: [SparseVector], _ targets: [Int], _ options: TrainingOptions) {
        let dimension = featurizer.dimension
        var counts = [Float](repeating: options.smoothing, count: weights.count)
        var totals = [Float](repeating: options.smoothing * Float(dimension), count: labels.count)
        var documents = [Float](repeating: 0, count: labels.count)
        for (vector, label) in zip(vectors, targets) {
            documents[label] += 1
            totals[label] += Float(vector.indices.count)
            for feature in vector.indices { counts[label * dimension + Int(feature)] += 1 }
        }
        for label in labels.indices {
            bias[label] = Float(log(Double(documents[label]) / Double(vectors.count)))
            let row = label * dimension
            for feature in 0..<dimension {
                weights[row + feature] = Float(log(Double(counts[row + feature]) / Double(totals[label])))
            }
        }
    }
}

extension TextModel {
    private struct Header: Codable {
        var kind: Kind
        var labels: [String]
        var featurizer: TextFeaturizer
    }

    private static let magic = Array("WTM1".utf8)

    /// The model as bytes: a magic word, a JSON header (kind, labels, features) and the weights as
    /// little-endian 32-bit floats.
    public func encoded() -> [UInt8] {
        let header = (try? JSONEncoder().encode(Header(kind: kind, labels: labels, featurizer: featurizer))) ?? Data()
        var bytes = Self.magic
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { bytes += $0 }
        bytes += header
        bytes.reserveCapacity(bytes.count + 4 * (weights.count + bias.count))
        for value in weights + bias { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        return bytes
    }

    /// Reads bytes made by ``encoded()``.
    public init(decoding bytes: [UInt8]) throws(TrainingError) {
        guard bytes.count >= 8, Array(bytes[0..<4]) == Self.magic else { throw TrainingError("not a Warden text model") }
        let headerLength = Int(bytes[4..<8].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard bytes.count >= 8 + headerLength,
              let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[8..<(8 + headerLength)])) else {
            throw TrainingError("the model's header is unreadable")
        }
        let count = header.labels.count * header.featurizer.dimension + header.labels.count
        guard bytes.count == 8 + headerLength + 4 * count else { throw TrainingError("the model's weights are truncated") }
        var floats = [Float](repeating: 0, count: count)
        var offset = 8 + headerLength
        for index in 0..<count {
            let bits = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            floats[index] = Float(bitPattern: bits)
            offset += 4
        }
        let weightCount = header.labels.count * header.featurizer.dimension
        self.init(kind: header.kind, labels: header.labels, featurizer: header.featurizer,
                  weights: Array(floats[0..<weightCount]), bias: Array(floats[weightCount...]))
    }
}

/// A trained text model as a ``Classifier``: every label but the benign one is a category, flagged
/// when its probability reaches the threshold.
public struct TextModelClassifier: Classifier {
    public let name: String
    public let model: TextModel
    /// `name@version`, as classifications report it.
    public let modelVersion: String
    /// The label that means "nothing wrong" (never flagged).
    public let benignLabel: String
    public let threshold: Double

    public init(name: String, version: Int, model: TextModel, benignLabel: String? = nil, threshold: Double = 0.5) {
        self.name = name
        self.model = model
        modelVersion = "\(name)@\(version)"
        self.benignLabel = benignLabel ?? Self.benignLabel(among: model.labels)
        self.threshold = threshold
    }

    /// The label that reads as benign (`ham`, `benign`, `safe`, `neither`, `none`, `ok`, `clean`,
    /// `allow`, `not_spam`, `0`), or the first label.
    public static func benignLabel(among labels: [String]) -> String {
        let benign = ["ham", "benign", "safe", "neither", "none", "ok", "clean", "allow", "not_spam", "0"]
        return labels.first { benign.contains($0.lowercased()) } ?? labels[0]
    }

    public func classify(_ input: ClassifierInput) async throws -> Classification {
        classifyNow(input.text)
    }

    /// Classifies without suspending (the model is in memory).
    public func classifyNow(_ text: String) -> Classification {
        let started = ContinuousClock.now
        let probabilities = model.probabilities(of: text)
        var scores: [String: Double] = [:]
        var flagged: [String] = []
        for (label, probability) in zip(model.labels, probabilities) where label != benignLabel {
            scores[label] = probability
            if probability >= threshold { flagged.append(label) }
        }
        let elapsed = started.duration(to: .now).components
        return Classification(scores: scores, flagged: flagged, model: modelVersion,
                              latencyMillis: Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
    }
}

/// Why a model could not be trained.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
