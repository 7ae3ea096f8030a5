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

    @Sendable func moderate(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        let classifiers = registry()
        try EventsController.requireJSON(request, "a moderation request")
        let body = try await EventsController.collect(request, limit: maxBodyBytes)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw Problem(.unprocessableContent, "invalid-moderation-request", title: "Invalid moderation request",
                          detail: "the body must be a JSON object such as {\"input\": \"text to check\"}")
        }
        let inputs: [String]
        switch object["input"] {
        case let text as String: inputs = [text]
        case let texts as [Any] where !texts.isEmpty && texts.count <= 32 && texts.allSatisfy({ $0 is String }):
            inputs = texts.compactMap { $0 as? String }
        default:
            throw Problem(.unprocessableContent, "invalid-moderation-request", title: "Invalid moderation request",
                          detail: "input must be a string or an array of 1 to 32 strings (images are not supported)")
        }
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
        var results: [[String: Any]] = []
        for input in inputs {
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
            results.append(["flagged": flags.values.contains(true), "categories": flags, "category_scores": scores])
        }
        let answer: [String: Any] = ["id": "modr-\(UUID().uuidString.lowercased())", "model": (object["model"] as? String) ?? "warden",
                                     "results": results]
        let json = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}
