import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
@testable import WardenClassifiers

/// A local server answering in each model's documented shapes, chosen by the content sent
/// (`case:…`), including malformed, slow and failing answers. It records what it received.
final class FakeModelServer: Sendable {
    /// Request bodies, in order of arrival.
    let bodies = Mutex<[[UInt8]]>([])
    let calls = Mutex<[String: Int]>([:])
    /// Requests being answered now, and the most at once.
    let inFlight = Mutex((now: 0, most: 0))

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await self.record(request)
            let messages = body["messages"] as? [[String: Any]] ?? []
            let content = messages.last?["content"] as? String ?? ""
            let scenario = content.components(separatedBy: " ").first { $0.hasPrefix("case:") } ?? ""
            let count = self.calls.withLock { calls in calls[scenario, default: 0] += 1; return calls[scenario] ?? 0 }
            switch scenario {
            case "case:slow":
                try await Task.sleep(for: .seconds(5))
                return Self.chat("0")
            case "case:pause":
                self.inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                // Long enough that the two allowed at once overlap even when a loaded machine starts
                // the second late (at 100 ms a full parallel test run once saw only one at a time).
                try await Task.sleep(for: .milliseconds(400))
                self.inFlight.withLock { $0.now -= 1 }
                return Self.chat("0")
            case "case:flaky" where count == 1, "case:fail":
                return Response(status: .internalServerError)
            case "case:binary": return Self.chat("1")
            case "case:json":
                return Self.chat(#"{"violation": 1, "policy_category": "SP3", "confidence": "high", "rationale": "bulk promotion"}"#,
                                 reasoningKey: "reasoning_content", reasoning: "It is unsolicited.")
            case "case:fenced": return Self.chat("```json\n{\"violation\": 0, \"confidence\": \"medium\"}\n```", reasoningKey: "reasoning", reasoning: "A greeting.")
            case "case:garbage": return Self.chat("I think it might be spam?")
            case "case:guard-unsafe": return Self.chat("unsafe\nS1,S10")
            case "case:guard-safe": return Self.chat("safe")
            case "case:guard-bad": return Self.chat("unsafe")
            case "case:notjson": return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "<html>oops</html>")))
            default: return Self.chat("0")
            }
        }
        router.post("/v1/moderations") { request, _ -> Response in
            let body = try await self.record(request)
            let input = body["input"] as? String ?? ""
            var scores = Dictionary(uniqueKeysWithValues: ModerationClassifier.categories.map { ($0, 0.001) })
            var flags = Dictionary(uniqueKeysWithValues: ModerationClassifier.categories.map { ($0, false) })
            if input.contains("case:threat") {
                scores["harassment"] = 0.91
                scores["harassment/threatening"] = 0.88
                flags["harassment"] = true
                flags["harassment/threatening"] = true
            }
            if input.contains("case:partial") { scores["violence"] = nil }
            let answer: [String: Any] = ["id": "modr-1", "model": "omni-moderation-latest",
                                         "results": [["flagged": flags.values.contains(true), "categories": flags, "category_scores": scores]]]
            return Self.json(answer)
        }
        return router
    }

    private func record(_ request: Request) async throws -> [String: Any] {
        let bytes = Array(buffer: try await request.body.collect(upTo: 1 << 20))
        bodies.withLock { $0.append(bytes) }
        return (try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:]
    }

    /// The first request body, parsed.
    var firstBody: [String: Any]? {
        bodies.withLock { $0.first }.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }

    static func chat(_ content: String, reasoningKey: String? = nil, reasoning: String? = nil) -> Response {
        var message: [String: Any] = ["role": "assistant", "content": content]
        if let reasoningKey { message[reasoningKey] = reasoning }
        return json(["id": "chatcmpl-1", "object": "chat.completion", "choices": [["index": 0, "message": message, "finish_reason": "stop"]],
                     "usage": ["prompt_tokens": 90, "completion_tokens": 10, "total_tokens": 100]])
    }

    static func json(_ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

@Suite struct LanguageModelTests {
    let policy = "Spam policy: SP0 is not spam … SP4 is malicious. Answer 0 or 1, or JSON."

    func withServer(_ body: @Sendable (FakeModelServer, String) async throws -> Void) async throws {
        let server = FakeModelServer()
        let app = Application(router: server.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body(server, "http://127.0.0.1:\(try #require(client.port))/v1")
        }
    }

    func settings(_ url: String, _ change: (inout LanguageModelSettings) -> Void = { _ in }) -> LanguageModelSettings {
        var settings = LanguageModelSettings(baseURL: url, model: "gpt-oss-safeguard-20b", apiKey: "sk-test")
        // Generous: a loaded CI machine can take longer than a short timeout, and a retry would be
        // counted as a second request. The timeout test sets its own short one.
        settings.timeout = .seconds(10)
        settings.backoff = .milliseconds(10)
        settings.dollarsPerThousandTokens = 0.5
        change(&settings)
        return settings
    }

    @Test func policyPromptReadsBothAnswerFormsAndSendsThePolicy() async throws {
        try await withServer { server, url in
            let classifier = PolicyPromptClassifier(name: "spam-policy", client: LanguageModelClient(settings: settings(url)), policy: policy,
                                                    category: "spam", reasoningEffort: "low")
            let binary = try await classifier.classify(ClassifierInput(text: "case:binary buy now"))
            #expect(binary.flagged == ["spam"] && binary.policyVersion == classifier.policyVersion && binary.cost == 0.05)
            let json = try await classifier.classify(ClassifierInput(text: "case:json cheap pills"))
            #expect(json.flagged == ["SP3"] && json.scores["SP3"] == 0.95 && json.rationale == "bulk promotion")
            let fenced = try await classifier.classify(ClassifierInput(text: "case:fenced hello"))
            #expect(fenced.flagged.isEmpty && fenced.rationale == "A greeting." && fenced.scores["spam"] == 0.25)
            let sent = try #require(server.firstBody)
            let messages = try #require(sent["messages"] as? [[String: String]])
            #expect(messages.first == ["role": "system", "content": policy] && sent["reasoning_effort"] as? String == "low")
        }
    }

    /// Unparseable output is an error that is counted, never a silent "safe".
    @Test func unparseableAnswersAreErrorsAndCounted() async throws {
        try await withServer { _, url in
            let client = LanguageModelClient(settings: settings(url))
            let classifier = PolicyPromptClassifier(name: "p", client: client, policy: policy, category: "spam")
            await #expect(throws: ClassifierError.self) { try await classifier.classify(ClassifierInput(text: "case:garbage")) }
            await #expect(throws: ClassifierError.self) { try await classifier.classify(ClassifierInput(text: "case:notjson")) }
            let guardModel = LlamaGuardClassifier(name: "g", client: client, categories: [:])
            await #expect(throws: ClassifierError.self) { try await guardModel.classify(ClassifierInput(text: "case:guard-bad")) }
            #expect(await client.statistics().unparseable == 3)
            // Not cached: asking again asks the model again.
            await #expect(throws: ClassifierError.self) { try await classifier.classify(ClassifierInput(text: "case:garbage")) }
            #expect(await client.statistics().cacheHits == 0)
        }
    }

    @Test func llamaGuardCodesMapToTheTaxonomy() async throws {
        try await withServer { _, url in
            let classifier = LlamaGuardClassifier(name: "guard", client: LanguageModelClient(settings: settings(url)),
                                                  categories: ["S1": "violence", "S10": "hate"])
            let unsafe = try await classifier.classify(ClassifierInput(text: "case:guard-unsafe"))
            let safe = try await classifier.classify(ClassifierInput(text: "case:guard-safe"))
            #expect(unsafe.flagged == ["violence", "hate"] && safe.flagged.isEmpty)
        }
        #expect(try LlamaGuardClassifier.parse("unsafe\nS2") == ["S2"])
        #expect(throws: ClassifierError.self) { try LlamaGuardClassifier.parse("unsafe\nviolence") }
    }

    @Test func moderationEndpointShape() async throws {
        try await withServer { _, url in
            let classifier = ModerationClassifier(name: "moderation", client: LanguageModelClient(settings: settings(url)))
            let threat = try await classifier.classify(ClassifierInput(text: "case:threat I will find you"))
            #expect(threat.flagged.sorted() == ["harassment", "harassment/threatening"] && threat.scores.count == 13)
            #expect(threat.model == "omni-moderation-latest")
            await #expect(throws: ClassifierError.self) { try await classifier.classify(ClassifierInput(text: "case:partial")) }
        }
    }

    @Test func timeoutsRetriesAndTheCircuitBreaker() async throws {
        try await withServer { _, url in
            // A 500 then an answer: the retry succeeds. This client's deadline is long: on a loaded
            // machine (a full parallel run on two cores) a local answer once took over 1.5 s.
            let patient = LanguageModelClient(settings: settings(url) { $0.timeout = .seconds(60); $0.retries = 1 })
            let flaky = try await PolicyPromptClassifier(name: "p", client: patient, policy: policy, category: "spam")
                .classify(ClassifierInput(text: "case:flaky"))
            #expect(flaky.flagged.isEmpty)
            #expect(await patient.statistics().retries == 1)
            let client = LanguageModelClient(settings: settings(url) {
                // Far shorter than the slow case's 5 s (a loaded machine only makes it later).
                $0.timeout = .milliseconds(1_500)
                $0.retries = 1
                $0.breakerThreshold = 2
                $0.breakerCooldown = .seconds(60)
            })
            let classifier = PolicyPromptClassifier(name: "p", client: client, policy: policy, category: "spam")
            // Too slow twice: unavailable, not safe. The client's deadline ended each attempt (the
            // server takes 5 s); asserted by the error rather than by wall time, which a loaded CI
            // machine stretches.
            await #expect {
                try await classifier.classify(ClassifierInput(text: "case:slow"))
            } throws: { error in
                guard case .unavailable(let why) = error as? ClassifierError else { return false }
                return why.contains("deadlineExceeded")
            }
            await #expect(throws: ClassifierError.self) { try await classifier.classify(ClassifierInput(text: "case:fail")) }
            // Two failed requests in a row open the circuit: the next is refused without a request.
            let requests = await client.statistics().requests
            await #expect(throws: ClassifierError.circuitOpen) { try await classifier.classify(ClassifierInput(text: "case:binary")) }
            #expect(await client.statistics().requests == requests)
        }
    }

    @Test func cacheBudgetAndRedaction() async throws {
        try await withServer { server, url in
            let client = LanguageModelClient(settings: settings(url) { $0.tokenBudget = 250 })
            let classifier = PolicyPromptClassifier(name: "p", client: client, policy: policy, category: "spam")
            let text = "case:binary mail bob@example.com or call +44 20 7946 0958 from 203.0.113.9"
            _ = try await classifier.classify(ClassifierInput(text: text))
            // The same text again is answered from the cache: no request. (Counted from after the
            // first answer: on a loaded machine the first may have needed a retry.)
            let sentBefore = server.bodies.withLock { $0.count }
            _ = try await classifier.classify(ClassifierInput(text: text))
            #expect(await client.statistics().cacheHits == 1 && server.bodies.withLock { $0.count } == sentBefore)
            let sent = try #require(server.firstBody?["messages"] as? [[String: String]])
            #expect(sent.last?["content"] == "case:binary mail [email] or call [phone] from [ip]")
            _ = try await classifier.classify(ClassifierInput(text: "case:binary other"))
            _ = try await classifier.classify(ClassifierInput(text: "case:binary third"))
            // 300 tokens used of 250: the next request is refused.
            await #expect(throws: ClassifierError.budgetExhausted) { try await classifier.classify(ClassifierInput(text: "case:binary fourth")) }
        }
    }

    @Test func concurrencyIsLimited() async throws {
        try await withServer { server, url in
            let client = LanguageModelClient(settings: settings(url) { $0.maxConcurrent = 2; $0.timeout = .seconds(5) })
            let classifier = PolicyPromptClassifier(name: "p", client: client, policy: policy, category: "spam")
            try await withThrowingTaskGroup(of: Classification.self) { group in
                for index in 0..<6 { group.addTask { try await classifier.classify(ClassifierInput(text: "case:pause \(index)")) } }
                var answered = 0
                for try await _ in group { answered += 1 }
                #expect(answered == 6)
            }
            #expect(server.inFlight.withLock { $0.most } == 2)
        }
    }

    @Test func redactionMasksPersonalDataAndLeavesTheRest() {
        let text = "call 555-123-4567 or (020) 7946 0958, mail A.B@Example.ORG, ip 10.0.0.1; it costs 12.50 in 2 days"
        #expect(Redaction.personalData.apply(text) == "call [phone] or ([phone], mail [email], ip [ip]; it costs 12.50 in 2 days")
        #expect(Redaction.none.apply(text) == text)
        #expect(Redaction(emails: true, phoneNumbers: false, ipAddresses: false).apply("x@y.io 10.0.0.1") == "[email] 10.0.0.1")
    }

    @Test func verdictParsing() throws {
        #expect(try PolicyPromptClassifier.parse(" 1\n").violation)
        #expect(try !PolicyPromptClassifier.parse(#"{"violation":"0"}"#).violation)
        #expect(throws: ClassifierError.self) { try PolicyPromptClassifier.parse(#"{"violation": 2}"#) }
        #expect(throws: ClassifierError.self) { try PolicyPromptClassifier.parse("") }
    }
}
