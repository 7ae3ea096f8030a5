import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Synchronization
import Testing
import WardenClassifiers
import WardenCore
import WardenEngine
import WardenStore
@testable import WardenHTTP

/// A policy-as-prompt model served like vLLM's chat completions: it answers by what the message
/// says (`earn` is spam, `slow` takes a while, `broken` gets an answer no one can parse).
final class FakeSpamModel: Sendable {
    let asked = Mutex<[String]>([])

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let bytes = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            let body = (try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:]
            let text = (body["messages"] as? [[String: Any]])?.last?["content"] as? String ?? ""
            self.asked.withLock { $0.append(text) }
            let content: String
            if text.contains("slow") {
                try await Task.sleep(for: .milliseconds(1500))
                content = "0"
            } else if text.contains("broken") {
                content = "Hard to say, maybe?"
            } else if text.contains("earn") {
                content = #"{"violation": 1, "policy_category": "SP1", "confidence": "high", "rationale": "A get-rich offer to a stranger."}"#
            } else {
                content = #"{"violation": 0, "policy_category": null, "confidence": "high", "rationale": "Holiday photos."}"#
            }
            let answer: [String: Any] = ["id": "chatcmpl-1", "object": "chat.completion", "model": "openai/gpt-oss-safeguard-20b",
                                         "choices": [["index": 0, "finish_reason": "stop", "message": ["role": "assistant", "content": content]]],
                                         "usage": ["prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220]]
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: answer))))
        }
        return router
    }

    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))/v1")
        }
    }
}

func youngAccountMessage(_ id: String, actor: String, text: String) -> String {
    #"{"id":"\#(id)","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"\#(actor)"},"data":{"text":"\#(text)","recipient":"u9"}}"#
}

@Suite struct ClassificationStageTests {
    /// The example pack's `young_account_spam_policy` asks a served policy model. Detection does
    /// not wait for it: the hit is stored as a job, the stage asks the model (several at once, so
    /// a slow answer holds up no other), and the rule fires with the model's answer in its
    /// explanation, which makes a case like any signal. A model that answers nonsense is retried
    /// and then fails, visibly; nothing happens twice.
    @Test func servedClassifiersInRulesAreAskedByTheClassificationStage() async throws {
        let harness = try await Harness.make()
        let model = FakeSpamModel()
        try await model.run { url in
            let registry = await ClassifierRegistry.build(harness.components.packs.pack.classifiers, packDirectory: harness.components.packs.pack.directory,
                                                          models: harness.store, environment: ["WARDEN_LLM_URL": url])
            #expect(registry.served == ["spam-policy"])
            harness.detection.replaceClassifiers(scorers: registry.scorers, served: registry.served)
            let clock = MovableClock()
            var settings = ClassificationStage.Settings()
            settings.maxAttempts = 2
            let stage = ClassificationStage(jobs: harness.store, classifiers: { registry }, clock: clock, settings: settings,
                                            logger: Logger(label: "test"), metrics: DocumentedMetricsFactory(registry: harness.registry))
            try await harness.test { client in
                // Asked synchronously, the rule is reported pending: it does not change the verdict.
                let peek = try await client.post("/v1/evaluate", token: harness.writer,
                                                  body: youngAccountMessage("p0", actor: "y0", text: "earn $500 a day https://jobs.example/x"))
                let pending = try #require((peek.json["pending"] as? [[String: Any]])?.first)
                #expect(pending["rule"] as? String == "young_account_spam_policy")
                #expect(pending["waiting_for"] as? String == #"classify("spam-policy") >= 0.75"#)
                #expect(peek.json["verdict"] as? String == "allow")

                let messages = [("m1", "y1", "earn $500 a day from home https://jobs.example/x"),
                                ("m2", "y2", "our holiday photos https://photos.example.org/a"),
                                ("m3", "y3", "slow news today https://news.example/b"),
                                ("m4", "y4", "broken link? https://x.example/c"),
                                ("m5", "y5", "earn money, no link at all")]
                for (id, actor, text) in messages {
                    #expect(try await client.post("/v1/events", token: harness.writer, body: youngAccountMessage(id, actor: actor, text: text)).status == .ok)
                }
                // Detection runs without asking the model at all.
                let started = ContinuousClock.now
                #expect(try await harness.detection.processNext() == 5)
                #expect(started.duration(to: .now) < .seconds(1))
                #expect(model.asked.withLock { $0.isEmpty })
                var jobs = try await harness.store.classificationJobs(state: nil, before: nil, limit: 10)
                // The message without a link never needed the model.
                #expect(jobs.count == 4)
                #expect(jobs.allSatisfy { $0.state == "pending" && $0.signal.rule == "young_account_spam_policy" })

                // The stage settles them; the slow answer holds up no other.
                let settling = Task { try await stage.settleDue() }
                var settledBeforeSlow = false
                for _ in 0..<100 {
                    jobs = try await harness.store.classificationJobs(state: nil, before: nil, limit: 10)
                    let bySubject = Dictionary(uniqueKeysWithValues: jobs.map { ($0.signal.subject?.id ?? "", $0) })
                    if bySubject["y1"]?.state == "fired", bySubject["y2"]?.state == "not_fired", bySubject["y3"]?.state == "pending" {
                        settledBeforeSlow = true
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(settledBeforeSlow)
                #expect(try await settling.value == 4)
                jobs = try await harness.store.classificationJobs(state: nil, before: nil, limit: 10)
                let bySubject = Dictionary(uniqueKeysWithValues: jobs.map { ($0.signal.subject?.id ?? "", $0) })
                #expect(bySubject["y3"]?.state == "not_fired")
                let broken = try #require(bySubject["y4"])
                #expect(broken.state == "pending" && broken.attempts == 1)
                #expect(broken.lastError?.contains("spam-policy") == true)

                // The fired rule's signal, with the model's score and rationale, becomes a case.
                let signals = try await client.get("/v1/signals?rule=young_account_spam_policy", token: harness.reader).json["signals"] as? [[String: Any]] ?? []
                #expect(signals.count == 1)
                #expect(signals.first?["subject"] as? String == "user:y1")
                let explanation = signals.first?["explanation"] as? String ?? ""
                #expect(explanation.contains(#"classify("spam-policy") = 0.95 >= 0.75"#), "\(explanation)")
                #expect(explanation.contains("A get-rich offer to a stranger."))
                while try await CaseBuilder(review: harness.components.review, events: harness.store, logger: Logger(label: "test")).step() > 0 {}
                let cases = try await client.get("/v1/cases?queue=spam", token: harness.admin).json["cases"] as? [[String: Any]] ?? []
                #expect(cases.contains { ($0["subject"] as? String) == "user:y1" })
                let rules = try await client.get("/v1/rules", token: harness.reader).json["rules"] as? [[String: Any]] ?? []
                #expect(rules.first { $0["name"] as? String == "young_account_spam_policy" }?["hits_24h"] as? Int == 1)

                // Settling again changes nothing: one signal, however often it is recorded.
                let fired = try #require(bySubject["y1"])
                #expect(try await harness.store.settleClassificationJob(id: fired.id, .fired(explanation: "again", answers: "[]"), at: 1) == false)
                #expect(try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "young_account_spam_policy").count == 1)

                // Not due before its backoff; then the last attempt fails, and the failure is visible.
                #expect(try await stage.settleDue() == 0)
                clock.advance(2000)
                #expect(try await stage.settleDue() == 1)
                let failed = try await client.get("/v1/classifications?state=failed", token: harness.reader).json
                let item = try #require((failed["classifications"] as? [[String: Any]])?.first)
                #expect(item["subject"] as? String == "user:y4")
                #expect((item["last_error"] as? String)?.contains("after 2 attempts") == true)
                #expect((failed["counts"] as? [String: Any])?["fired"] as? Int == 1)
                #expect((failed["counts"] as? [String: Any])?["not_fired"] as? Int == 2)
                let settledY2 = try await client.get("/v1/classifications?state=not_fired", token: harness.reader).json["classifications"] as? [[String: Any]] ?? []
                #expect(settledY2.contains { (($0["answers"] as? [[String: Any]])?.first?["model"] as? String) == "openai/gpt-oss-safeguard-20b" })
                #expect(try await client.get("/v1/classifications?state=lost", token: harness.reader).status == .badRequest)
                let metrics = String(buffer: try await client.get("/metrics", token: nil).body)
                #expect(metrics.contains(#"warden_classification_jobs_total{outcome="failed"} 1"#))
                #expect(metrics.contains(#"warden_classification_jobs_total{outcome="fired"} 1"#))

                // Detection replaying the same events (after a restart) stores no job twice.
                try await harness.store.commitDetection({
                    var batch = DetectionBatch(throughSeq: try await harness.store.detectionCursor())
                    batch.jobs = [ClassificationJob(signal: fired.signal, mode: "active", condition: fired.condition, createdAt: 5)]
                    return batch
                }())
                #expect(try await harness.store.classificationJobs(state: nil, before: nil, limit: 10).count == 4)
            }
        }
        // Each text was asked once, except the broken one (asked on both attempts).
        #expect(model.asked.withLock { $0.count } == 5)
    }

    /// A late hit over its rule's budget has no effect: the job settles as a shadow hit, and a
    /// `safety_valve` signal on the same event says why, as detection's valve does.
    @Test func theSafetyValveAppliesToLateHits() async throws {
        let harness = try await Harness.make()
        let model = FakeSpamModel()
        try await model.run { url in
            let registry = await ClassifierRegistry.build(harness.components.packs.pack.classifiers, packDirectory: harness.components.packs.pack.directory,
                                                          models: harness.store, environment: ["WARDEN_LLM_URL": url])
            harness.detection.replaceClassifiers(scorers: registry.scorers, served: registry.served)
            let stage = ClassificationStage(jobs: harness.store, classifiers: { registry }, clock: MovableClock(),
                                            budget: { rule, _, _ in ("rule \(rule) demoted to shadow: over its budget", "critical") },
                                            logger: Logger(label: "test"))
            try await harness.test { client in
                #expect(try await client.post("/v1/events", token: harness.writer,
                                              body: youngAccountMessage("v1", actor: "v1", text: "earn $500 a day https://jobs.example/x")).status == .ok)
                #expect(try await harness.detection.processNext() == 1)
                #expect(try await stage.settleDue() == 1)
                let job = try #require(try await harness.store.classificationJobs(state: "fired", before: nil, limit: 10).first)
                #expect(job.mode == "shadow")
                #expect(try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "young_account_spam_policy").isEmpty)
                let valve = try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "safety_valve")
                #expect(valve.count == 1 && valve.first?.eventSeq == job.signal.eventSeq && valve.first?.severity == "critical")
                #expect(valve.first?.reason == "rule young_account_spam_policy demoted to shadow: over its budget")
                let hits = try await harness.store.ruleHits(sinceHour: 0).filter { $0.rule == "young_account_spam_policy" }
                #expect(hits.map(\.mode) == ["shadow"])
            }
        }
    }
}
