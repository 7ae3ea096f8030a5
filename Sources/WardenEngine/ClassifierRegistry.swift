import Foundation
public import WardenClassifiers
public import WardenRules
public import WardenStore
import Yams

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
            // Say which variable, and what a local server's address looks like.
            let variable = served.baseURL.range(of: #"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"#, options: .regularExpression)
                .map { String(served.baseURL[$0].dropFirst(2).dropLast()) }
            let example = "an OpenAI-compatible server such as vLLM (http://127.0.0.1:8000/v1) or Ollama (http://127.0.0.1:11434/v1) serving \(served.model)"
            if let variable {
                return .unavailable("\(variable) is not set: set it to the base URL of \(example); see docs/classifiers.md")
            }
            return .unavailable("base_url is empty: give the base URL of \(example)")
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
