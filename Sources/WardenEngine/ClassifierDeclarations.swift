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
