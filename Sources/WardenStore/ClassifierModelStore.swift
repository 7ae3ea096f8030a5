/// A trained classifier model as stored: every training makes a new version of its name.
public struct StoredClassifierModel: Sendable, Equatable {
    /// The name rules and commands use.
    public var name: String
    /// 1, 2, 3, … per name.
    public var version: Int
    /// The model family, such as `logistic_regression`.
    public var kind: String
    /// When it was trained (ms since the epoch).
    public var createdAt: Int64
    /// What it was trained on (a file name, or a description of the decisions used).
    public var trainedOn: String
    /// How many labelled examples.
    public var examples: Int
    /// Its labels, in score order.
    public var labels: [String]
    /// Cross-validation or other figures recorded at training, as a JSON object (`{}` when none).
    public var metrics: String
    /// The model itself (empty in listings).
    public var data: [UInt8]

    public init(name: String, version: Int, kind: String, createdAt: Int64, trainedOn: String, examples: Int,
                labels: [String], metrics: String, data: [UInt8]) {
        self.name = name
        self.version = version
        self.kind = kind
        self.createdAt = createdAt
        self.trainedOn = trainedOn
        self.examples = examples
        self.labels = labels
        self.metrics = metrics
        self.data = data
    }
}

/// Versioned storage of trained classifier models.
public protocol ClassifierModelStore: Sendable {
    /// Stores a model as the next version of its name (the given version is ignored) and returns that version.
    func saveModel(_ model: StoredClassifierModel) async throws -> Int
    /// The newest version of a name, or a given version.
    func model(named name: String, version: Int?) async throws -> StoredClassifierModel?
    /// Every version of every model, without their data, by name then version.
    func models() async throws -> [StoredClassifierModel]
}
