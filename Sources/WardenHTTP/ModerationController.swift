import Foundation
import Hummingbird
import WardenClassifiers
import WardenCore
import WardenEngine

/// Warden as an OpenAI-compatible moderation endpoint: `POST /v1/moderations` runs the pack's
/// moderation classifiers (`classifiers.yaml`, `moderation:`) on each input and answers in the
/// moderation shape, so existing clients switch by changing their base URL.
struct ModerationController {
    /// The classifiers in force (they change when the pack is reloaded).
    let registry: @Sendable () -> ClassifierRegistry
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/v1/moderations", scope: .eventsWrite, moderate)
    }

    /// A moderation request: `input` is one text or an array of 1 to 32 texts; `model` is echoed.
    struct ModerationRequest: RequestBody {
        var input: [String]
        var model: String?
        enum CodingKeys: String, CodingKey, CaseIterable { case input, model }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try? container.decode(String.self, forKey: .input) {
                input = [text]
            } else if let texts = try? container.decode([String].self, forKey: .input) {
                input = texts
            } else {
                throw DecodingError.dataCorruptedError(forKey: .input, in: container,
                                                       debugDescription: "must be a string or an array of 1 to 32 strings (images are not supported)")
            }
            model = try container.decodeIfPresent(String.self, forKey: .model)
        }

        func validate() throws(Problem) {
            if input.isEmpty || input.count > 32 { throw RequestInput.invalid("input", "must be a string or an array of 1 to 32 strings") }
            try Bounds.texts(input, "input", max: 100_000, maxItems: 32)
            try Bounds.text(model, "model", max: 200)
        }
    }

    @Sendable func moderate(_ request: Request, _ context: WardenRequestContext) async throws -> ModerationResponse {
        let classifiers = registry()
        let body = try await RequestInput(request: request, limit: maxBodyBytes).body(ModerationRequest.self)
        guard !classifiers.moderation.isEmpty else {
            throw Problem(.serviceUnavailable, "no-moderation-classifiers", title: "No moderation classifiers",
                          detail: "the policy pack's classifiers.yaml lists no classifiers under moderation:")
        }
        var ready: [(any Classifier, [String: String])] = []
        for name in classifiers.moderation {
            switch classifiers.entries[name] {
            case .ready(let classifier, let categories)?: ready.append((classifier, categories))
            case .unavailable(let reason)?:
                throw Problem(.serviceUnavailable, "classifier-unavailable", title: "Classifier unavailable", detail: "\(name): \(reason)")
            case nil:
                throw Problem(.serviceUnavailable, "classifier-unavailable", title: "Classifier unavailable", detail: "\(name) is not declared")
            }
        }
        var results: [ModerationResponse.Result] = []
        for input in body.input {
            var flags = Dictionary(uniqueKeysWithValues: ModerationClassifier.categories.map { ($0, false) })
            var scores = Dictionary(uniqueKeysWithValues: ModerationClassifier.categories.map { ($0, 0.0) })
            for (classifier, categories) in ready {
                let classification: Classification
                do {
                    classification = try await classifier.classify(ClassifierInput(text: input))
                } catch {
                    // Never answer "not flagged" for content a classifier could not judge.
                    throw Problem(.badGateway, "classifier-failed", title: "Classifier failed", detail: "\(classifier.name): \(error)")
                }
                for (label, score) in classification.scores {
                    let category = categories[label] ?? label
                    scores[category] = max(scores[category] ?? 0, score)
                    if classification.flagged.contains(label) { flags[category] = true }
                    if flags[category] == nil { flags[category] = false }
                }
            }
            results.append(ModerationResponse.Result(flagged: flags.values.contains(true), categories: flags, categoryScores: scores))
        }
        return ModerationResponse(id: "modr-\(UUID().uuidString.lowercased())", model: body.model ?? "warden", results: results)
    }
}
