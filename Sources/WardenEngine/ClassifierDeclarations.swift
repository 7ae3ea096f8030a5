import Foundation
public import WardenClassifiers
public import WardenRules
public import WardenStore
import Yams

/// A classifier the pack declares in `classifiers.yaml`, by kind:
///
/// ```yaml
/// classifiers:
///   - name: sms-spam
///     builtin: sms-spam            # a model trained with `warden classifiers train --name sms-spam`
///     train_on: data/sms_spam_collection.tsv   # labelled data in the pack: trained on first start
///     threshold: 0.5
///     categories: {spam: spam}     # the model's labels to taxonomy categories
///   - name: spam-policy
///     policy_prompt: {base_url: "${WARDEN_LLM_URL}", model: openai/gpt-oss-safeguard-20b,
///                     policy: policies/spam.txt, category: spam}
/// moderation: [sms-spam]           # what POST /v1/moderations runs
/// ```
public struct ClassifierDeclaration: Sendable, Decodable, Equatable {
    public var name: String
    /// A stored built-in model, newest version.
    public var builtin: String?
    /// Labelled data in the pack (relative path) a built-in model is trained on when none is stored,
    /// so a fresh data directory has a working model from its first start.
    public var trainOn: String?
    /// A served model behind an OpenAI-compatible API.
    public var policyPrompt: Served?
    public var llamaGuard: Served?
    public var moderationEndpoint: Served?
    /// The probability at which a built-in model flags.
    public var threshold: Double?
    /// Model labels (or Llama Guard codes) to taxonomy categories.
    public var categories: [String: String]?

    public struct Served: Sendable, Decodable, Equatable {
        /// The API's base URL; `${NAME}` is read from the environment.
        public var baseURL: String
        public var model: String
        /// The environment variable holding the API key, if the server wants one.
        public var apiKeyEnv: String?
        /// Policy-as-prompt: the policy file (relative to the pack) and the category it reports.
        public var policy: String?
        public var category: String?
        public var reasoningEffort: String?
        public var timeoutSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case baseURL = "base_url", model, apiKeyEnv = "api_key_env", policy, category
            case reasoningEffort = "reasoning_effort", timeoutSeconds = "timeout_seconds"
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, builtin, threshold, categories, trainOn = "train_on"
        case policyPrompt = "policy_prompt", llamaGuard = "llama_guard", moderationEndpoint = "moderation_endpoint"
    }
}

/// The pack's `classifiers.yaml`, checked.
public struct ClassifierDeclarations: Sendable, Equatable {
    public var classifiers: [ClassifierDeclaration] = []
    /// The classifiers `POST /v1/moderations` runs.
    public var moderation: [String] = []

    struct File: Decodable {
        var classifiers: [ClassifierDeclaration]?
        var moderation: [String]?
    }

    public init() {}

    /// Reads and checks `classifiers.yaml` (absent: no classifiers). Every problem is reported.
    static func load(directory: String, categories: Set<String>, problems: inout [PolicyPackError.Problem]) -> ClassifierDeclarations {
        let path = (directory as NSString).appendingPathComponent("classifiers.yaml")
        guard let data = FileManager.default.contents(atPath: path) else { return ClassifierDeclarations() }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            problems.append(.init(decoding: error, file: "classifiers.yaml"))
            return ClassifierDeclarations()
        } catch {
            problems.append(.init(file: "classifiers.yaml", message: "is not valid YAML: \(error)"))
            return ClassifierDeclarations()
        }
        var declarations = ClassifierDeclarations()
        declarations.classifiers = file.classifiers ?? []
        declarations.moderation = file.moderation ?? []
        var seen = Set<String>()
        for (index, declaration) in declarations.classifiers.enumerated() {
            let at = "classifiers[\(index)]"
            if !seen.insert(declaration.name).inserted {
                problems.append(.init(file: "classifiers.yaml", path: at, message: "\(declaration.name) is declared twice"))
            }
            let kinds = [declaration.builtin != nil, declaration.policyPrompt != nil, declaration.llamaGuard != nil,
                         declaration.moderationEndpoint != nil].filter { $0 }.count
            if kinds != 1 {
                problems.append(.init(file: "classifiers.yaml", path: at,
                                      message: "give exactly one of builtin, policy_prompt, llama_guard or moderation_endpoint"))
            }
            for (label, category) in declaration.categories ?? [:] where !categories.contains(category) {
                problems.append(.init(file: "classifiers.yaml", path: "\(at).categories.\(label)", message: "\(category) is not in the taxonomy"))
            }
            if let served = declaration.policyPrompt {
                if let policy = served.policy {
                    if policy.contains("..") || !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(policy)) {
                        problems.append(.init(file: "classifiers.yaml", path: "\(at).policy_prompt.policy", message: "the policy file \(policy) is missing from the pack"))
                    }
                } else {
                    problems.append(.init(file: "classifiers.yaml", path: "\(at).policy_prompt", message: "policy_prompt needs policy: a file in the pack"))
                }
                if let category = served.category, !categories.contains(category) {
                    problems.append(.init(file: "classifiers.yaml", path: "\(at).policy_prompt.category", message: "\(category) is not in the taxonomy"))
                }
            }
            if let data = declaration.trainOn {
                if declaration.builtin == nil {
                    problems.append(.init(file: "classifiers.yaml", path: "\(at).train_on", message: "train_on is for builtin models"))
                } else if data.contains("..") || !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(data)) {
                    problems.append(.init(file: "classifiers.yaml", path: "\(at).train_on", message: "the training data \(data) is missing from the pack"))
                }
            }
            if let threshold = declaration.threshold, !(0...1).contains(threshold) {
                problems.append(.init(file: "classifiers.yaml", path: "\(at).threshold", message: "a threshold is between 0 and 1"))
            }
        }
        for (index, name) in declarations.moderation.enumerated() where !seen.contains(name) {
            problems.append(.init(file: "classifiers.yaml", path: "moderation[\(index)]", message: "\(name) is not a declared classifier"))
        }
        return declarations
    }
}

/// The pack's classifiers, ready to use: built-in models loaded from the store, served models
/// behind their clients. A classifier that cannot be built (no trained model, no base URL) stays
/// unavailable with the reason, and asking it is an error.
public struct ClassifierRegistry: Sendable {
    public enum Entry: Sendable {
        case ready(any Classifier, categories: [String: String])
        case unavailable(String)
    }

    public let entries: [String: Entry]
    public let moderation: [String]

    public init(entries: [String: Entry], moderation: [String]) {
        self.entries = entries
        self.moderation = moderation
    }

    /// The built-in models that are ready, as rules call them (`classify(…)`), scoring taxonomy categories.
    public var scorers: [String: any TextScorer] {
        var scorers: [String: any TextScorer] = [:]
        for (name, entry) in entries {
            if case .ready(let classifier as TextModelClassifier, let categories) = entry {
                scorers[name] = ModelScorer(classifier: classifier, categories: categories)
            }
        }
        return scorers
    }

    /// The served classifiers that are ready: rules' questions to them wait for the classification stage.
    public var served: Set<String> {
        Set(entries.compactMap { name, entry in
            if case .ready(let classifier, _) = entry, !(classifier is TextModelClassifier) { name } else { nil }
        })
    }

    /// Builds the pack's classifiers.
    public static func build(_ declarations: ClassifierDeclarations, packDirectory: String, models: any ClassifierModelStore,
                             environment: [String: String]? = nil) async -> ClassifierRegistry {
        let environment = environment ?? ProcessInfo.processInfo.environment
        var entries: [String: Entry] = [:]
        for declaration in declarations.classifiers {
            entries[declaration.name] = await entry(declaration, packDirectory: packDirectory, models: models, environment: environment)
        }
        return ClassifierRegistry(entries: entries, moderation: declarations.moderation)
    }

    private static func entry(_ declaration: ClassifierDeclaration, packDirectory: String, models: any ClassifierModelStore,
                              environment: [String: String]) async -> Entry {
        let categories = declaration.categories ?? [:]
        if let name = declaration.builtin {
            do {
                var found = try await models.model(named: name, version: nil)
                if found == nil, let data = declaration.trainOn {
                    found = try await train(name, on: (packDirectory as NSString).appendingPathComponent(data), models: models)
                }
                guard let stored = found else {
                    return .unavailable("no trained model \(name); train one with: warden classifiers train --name \(name) --data FILE")
                }
                let model = try TextModel(decoding: stored.data)
                return .ready(TextModelClassifier(name: declaration.name, version: stored.version, model: model,
                                                  threshold: declaration.threshold ?? 0.5), categories: categories)
            } catch {
                return .unavailable("model \(name) cannot be read: \(error)")
            }
        }
        guard let served = declaration.policyPrompt ?? declaration.llamaGuard ?? declaration.moderationEndpoint else {
            return .unavailable("no kind declared")
        }
        let baseURL = expand(served.baseURL, environment)
        guard !baseURL.isEmpty, !baseURL.contains("${") else {
            return .unavailable("base_url \(served.baseURL) is not set (define the environment variable it names)")
        }
        var settings = LanguageModelSettings(baseURL: baseURL, model: served.model, apiKey: served.apiKeyEnv.flatMap { environment[$0] })
        if let seconds = served.timeoutSeconds { settings.timeout = .milliseconds(Int(seconds * 1000)) }
        let client = LanguageModelClient(settings: settings)
        if declaration.policyPrompt != nil {
            let path = (packDirectory as NSString).appendingPathComponent(served.policy ?? "")
            guard let policy = try? String(contentsOfFile: path, encoding: .utf8) else { return .unavailable("cannot read \(path)") }
            return .ready(PolicyPromptClassifier(name: declaration.name, client: client, policy: policy, category: served.category ?? declaration.name,
                                                 reasoningEffort: served.reasoningEffort), categories: categories)
        }
        if declaration.llamaGuard != nil {
            return .ready(LlamaGuardClassifier(name: declaration.name, client: client, categories: categories), categories: [:])
        }
        return .ready(ModerationClassifier(name: declaration.name, client: client), categories: categories)
    }

    /// Trains a built-in model (logistic regression, default options) on labelled data and stores it.
    static func train(_ name: String, on path: String, models: any ClassifierModelStore) async throws -> StoredClassifierModel? {
        let examples = try LabelledData.load(path: path)
        let model = try TextModel.train(examples, kind: .logisticRegression, options: TrainingOptions())
        let stored = StoredClassifierModel(name: name, version: 0, kind: TextModel.Kind.logisticRegression.rawValue,
                                           createdAt: Int64(Date().timeIntervalSince1970 * 1000), trainedOn: (path as NSString).lastPathComponent,
                                           examples: examples.count, labels: model.labels, metrics: "{}", data: model.encoded())
        _ = try await models.saveModel(stored)
        return try await models.model(named: name, version: nil)
    }

    /// A classifier's scores under taxonomy categories: each label under the category it maps to
    /// (itself when unmapped), the highest score where several labels map to one category.
    public static func taxonomyScores(_ scores: [String: Double], categories: [String: String]) -> [String: Double] {
        var mapped: [String: Double] = [:]
        for (label, score) in scores {
            let category = categories[label] ?? label
            mapped[category] = max(mapped[category] ?? 0, score)
        }
        return mapped
    }

    /// `${NAME}` replaced by the environment's value (empty when unset).
    static func expand(_ text: String, _ environment: [String: String]) -> String {
        guard text.hasPrefix("${"), text.hasSuffix("}") else { return text }
        return environment[String(text.dropFirst(2).dropLast())] ?? ""
    }
}

/// A built-in model as rules see it: its labels' scores under their taxonomy categories.
struct ModelScorer: TextScorer {
    let classifier: TextModelClassifier
    let categories: [String: String]

    func scores(of text: String) -> [String: Double] {
        ClassifierRegistry.taxonomyScores(classifier.classifyNow(text).scores, categories: categories)
    }
}
