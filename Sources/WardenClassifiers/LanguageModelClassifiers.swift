import Foundation

/// Policy as prompt, for gpt-oss-safeguard-style models: the system message is a policy written in
/// plain words, the user message is the content, and the model answers `0`/`1` or a JSON object
/// such as `{"violation": 1, "policy_category": "SP2", "confidence": "high", "rationale": "…"}` in
/// `choices[0].message.content`, with its reasoning possibly in `message.reasoning` or
/// `message.reasoning_content`.
public struct PolicyPromptClassifier: Classifier {
    public let name: String
    public let client: LanguageModelClient
    /// The policy text, sent as the system message.
    public let policy: String
    /// A version of the policy text, for the cache and for classifications.
    public let policyVersion: String
    /// The category a violation is reported under when the model names none.
    public let category: String
    /// `low`, `medium` or `high`, sent as `reasoning_effort` when set.
    public let reasoningEffort: String?

    public init(name: String, client: LanguageModelClient, policy: String, category: String, reasoningEffort: String? = nil) {
        self.name = name
        self.client = client
        self.policy = policy
        policyVersion = String(TextFeaturizer.hash(Array(policy.utf8), seed: 0), radix: 16)
        self.category = category
        self.reasoningEffort = reasoningEffort
    }

    public func classify(_ input: ClassifierInput) async throws -> Classification {
        let started = ContinuousClock.now
        let settings = client.settings
        return try await client.ask("/chat/completions", text: input.text, policyVersion: policyVersion, body: { text in
            var body: [String: Any] = ["model": settings.model,
                                       "messages": [["role": "system", "content": policy], ["role": "user", "content": text]]]
            if let reasoningEffort { body["reasoning_effort"] = reasoningEffort }
            return body
        }, read: { answer in
            let message = try ChatAnswer.message(answer)
            let verdict = try Self.parse(message.content)
            let confidence = ["high": 0.95, "medium": 0.75, "low": 0.6][verdict.confidence ?? ""] ?? 0.9
            let label = verdict.category ?? category
            return Classification(scores: [label: verdict.violation ? confidence : 1 - confidence], flagged: verdict.violation ? [label] : [],
                                  rationale: verdict.rationale ?? message.reasoning, model: settings.model, policyVersion: policyVersion,
                                  latencyMillis: started.duration(to: .now).milliseconds, cost: ChatAnswer.cost(answer, settings))
        })
    }

    struct Verdict: Equatable {
        var violation: Bool
        var category: String?
        var confidence: String?
        var rationale: String?
    }

    /// Reads `0`, `1` or the JSON verdict.
    static func parse(_ content: String) throws(ClassifierError) -> Verdict {
        let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed == "0" || trimmed == "1" { return Verdict(violation: trimmed == "1") }
        // Models sometimes wrap JSON in a code fence.
        let json = trimmed.replacingOccurrences(of: "```json", with: "").replacingOccurrences(of: "```", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw .unparseable("expected 0, 1 or a JSON verdict, got: \(trimmed.prefix(120))")
        }
        let violation: Bool
        switch object["violation"] {
        case let number as NSNumber where number == 0 || number == 1: violation = number == 1
        case let text as String where text == "0" || text == "1": violation = text == "1"
        default: throw .unparseable("the verdict has no \"violation\" of 0 or 1: \(trimmed.prefix(120))")
        }
        return Verdict(violation: violation, category: object["policy_category"] as? String,
                       confidence: (object["confidence"] as? String)?.lowercased(), rationale: object["rationale"] as? String)
    }
}

/// Llama Guard: the content goes in a user message; the model answers `safe`, or `unsafe` and on
/// the next line the violated category codes (`S1,S10`), mapped here to taxonomy categories.
public struct LlamaGuardClassifier: Classifier {
    public let name: String
    public let client: LanguageModelClient
    /// Llama Guard codes (`S1` …) to taxonomy categories; an unmapped code is reported as itself.
    public let categories: [String: String]

    public init(name: String, client: LanguageModelClient, categories: [String: String]) {
        self.name = name
        self.client = client
        self.categories = categories
    }

    public func classify(_ input: ClassifierInput) async throws -> Classification {
        let started = ContinuousClock.now
        let settings = client.settings
        return try await client.ask("/chat/completions", text: input.text, body: { text in
            ["model": settings.model, "messages": [["role": "user", "content": text]]]
        }, read: { answer in
            let flagged = try Self.parse(try ChatAnswer.message(answer).content).map { categories[$0] ?? $0 }
            return Classification(scores: Dictionary(flagged.map { ($0, 1.0) }, uniquingKeysWith: max), flagged: flagged,
                                  model: settings.model, latencyMillis: started.duration(to: .now).milliseconds,
                                  cost: ChatAnswer.cost(answer, settings))
        })
    }

    /// The violated codes: none for `safe`.
    static func parse(_ content: String) throws(ClassifierError) -> [String] {
        let lines = content.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch lines.first?.lowercased() {
        case "safe":
            return []
        case "unsafe":
            guard lines.count >= 2 else { throw .unparseable("\"unsafe\" without a line of category codes") }
            let codes = lines[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !codes.isEmpty, codes.allSatisfy({ $0.first == "S" && Int($0.dropFirst()) != nil }) else {
                throw .unparseable("category codes must look like S1,S10: \(lines[1].prefix(80))")
            }
            return codes
        default:
            throw .unparseable("expected safe or unsafe, got: \(content.prefix(80))")
        }
    }
}

/// The moderation endpoint shape: `POST /moderations` answers `results[].flagged`, `categories`
/// and `category_scores` over the thirteen categories (harassment, harassment/threatening, hate,
/// hate/threatening, illicit, illicit/violent, self-harm, self-harm/intent, self-harm/instructions,
/// sexual, sexual/minors, violence, violence/graphic).
public struct ModerationClassifier: Classifier {
    public let name: String
    public let client: LanguageModelClient

    public static let categories = ["harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
                                    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
                                    "violence/graphic"]

    public init(name: String, client: LanguageModelClient) {
        self.name = name
        self.client = client
    }

    public func classify(_ input: ClassifierInput) async throws -> Classification {
        let started = ContinuousClock.now
        let settings = client.settings
        return try await client.ask("/moderations", text: input.text, body: { text in
            ["model": settings.model, "input": text]
        }, read: { answer in
            guard let result = (answer["results"] as? [[String: Any]])?.first,
                  let flags = result["categories"] as? [String: Any], let scores = result["category_scores"] as? [String: Any] else {
                throw ClassifierError.unparseable("expected results[0] with categories and category_scores")
            }
            var scored: [String: Double] = [:]
            var flagged: [String] = []
            for category in Self.categories {
                guard let score = (scores[category] as? NSNumber)?.doubleValue, let flag = flags[category] as? Bool else {
                    throw ClassifierError.unparseable("category \(category) is missing or not a score and a flag")
                }
                scored[category] = score
                if flag { flagged.append(category) }
            }
            return Classification(scores: scored, flagged: flagged, model: (answer["model"] as? String) ?? settings.model,
                                  latencyMillis: started.duration(to: .now).milliseconds)
        })
    }
}

/// Reading chat-completion answers.
enum ChatAnswer {
    struct Message {
        var content: String
        var reasoning: String?
    }

    static func message(_ answer: [String: Any]) throws(ClassifierError) -> Message {
        guard let choice = (answer["choices"] as? [[String: Any]])?.first, let message = choice["message"] as? [String: Any],
              let content = message["content"] as? String else {
            throw .unparseable("expected choices[0].message.content")
        }
        return Message(content: content, reasoning: (message["reasoning"] as? String) ?? (message["reasoning_content"] as? String))
    }

    static func cost(_ answer: [String: Any], _ settings: LanguageModelSettings) -> Double {
        let tokens = (answer["usage"] as? [String: Any])?["total_tokens"] as? Int ?? 0
        return Double(tokens) / 1000 * settings.dollarsPerThousandTokens
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
