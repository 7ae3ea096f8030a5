/// What a classifier reads: a text and, optionally, facts about it.
public struct ClassifierInput: Sendable {
    /// The content to classify.
    public var text: String
    /// Other facts a classifier may use (such as the event type or language).
    public var metadata: [String: String]

    public init(text: String, metadata: [String: String] = [:]) {
        self.text = text
        self.metadata = metadata
    }
}

/// What a classifier says about one input.
public struct Classification: Sendable, Equatable {
    /// A score in 0...1 per category the classifier knows.
    public var scores: [String: Double]
    /// The categories it flags (its score at or over the classifier's threshold).
    public var flagged: [String]
    /// Why, when the model says.
    public var rationale: String?
    /// The model, with its version (such as `sms-spam@3`).
    public var model: String
    /// The version of the policy the model was asked to apply, if any.
    public var policyVersion: String?
    /// How long it took, in milliseconds.
    public var latencyMillis: Double
    /// What it cost, in US dollars (0 for built-in models).
    public var cost: Double

    /// Whether any category is flagged.
    public var isFlagged: Bool { !flagged.isEmpty }

    public init(scores: [String: Double], flagged: [String], rationale: String? = nil, model: String,
                policyVersion: String? = nil, latencyMillis: Double, cost: Double = 0) {
        self.scores = scores
        self.flagged = flagged
        self.rationale = rationale
        self.model = model
        self.policyVersion = policyVersion
        self.latencyMillis = latencyMillis
        self.cost = cost
    }
}

/// Anything that classifies text: a built-in model, or a language model behind an API.
public protocol Classifier: Sendable {
    /// The name rules and the API use for it.
    var name: String { get }
    /// Classifies one input. Throws when it cannot answer; it never answers "safe" instead.
    func classify(_ input: ClassifierInput) async throws -> Classification
}
