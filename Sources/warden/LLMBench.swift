import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import WardenClassifiers
import WardenCore

struct LanguageModelBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm-client",
        abstract: "Measure the language-model client against a local stand-in model: throughput, cache and latency.",
        discussion: """
            Starts a local server that answers chat completions in the gpt-oss-safeguard shape after --model-latency, \
            then classifies --requests texts of which --repeat-share repeat earlier ones, through the policy-prompt \
            adapter with its concurrency limit, retries and cache. Reports texts/s, the cache hit rate and latency for \
            cache hits and misses.
            """
    )

    @Option(help: "Texts to classify.") var requests = 2000
    @Option(help: "Share of texts that repeat an earlier one (0 to 1).") var repeatShare = 0.5
    @Option(help: "How long the stand-in model takes to answer, in milliseconds.") var modelLatency = 20
    @Option(help: "Requests in flight at once.") var concurrency = 8
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let delay = modelLatency
        let router = Router()
        router.post("/v1/chat/completions") { _, _ -> Response in
            try await Task.sleep(for: .milliseconds(delay))
            let answer = #"{"choices":[{"message":{"role":"assistant","content":"{\"violation\":0,\"confidence\":\"high\"}"}}],"usage":{"total_tokens":120}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        let portBox = PortBox()
        var quiet = Logger(label: "stand-in-model")
        quiet.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { await portBox.set($0.localAddress?.port ?? 0) }, logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            let port = await portBox.wait()
            var settings = LanguageModelSettings(baseURL: "http://127.0.0.1:\(port)/v1", model: "stand-in")
            settings.maxConcurrent = concurrency
            let client = LanguageModelClient(settings: settings)
            let classifier = PolicyPromptClassifier(name: "bench", client: client, policy: "Spam policy (benchmark).", category: "spam")
            var generator = SplitMix64(seed: 3)
            var texts: [String] = []
            for index in 0..<requests {
                texts.append(index > 0 && Double(generator.next() >> 11) / Double(1 << 53) < repeatShare
                             ? texts[generator.below(index)] : "message number \(index) with a link http://example.com/\(index)")
            }
            var progress = ProgressBar(label: "llm-client", total: requests)
            let started = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [(Double, Bool)].self) { workers in
                let share = (texts.count + concurrency - 1) / concurrency
                for worker in 0..<concurrency {
                    let slice = Array(texts.dropFirst(worker * share).prefix(share))
                    workers.addTask {
                        var results: [(Double, Bool)] = []
                        for text in slice {
                            let before = await client.statistics().requests
                            let result = try await classifier.classify(ClassifierInput(text: text))
                            results.append((result.latencyMillis, await client.statistics().requests == before))
                        }
                        return results
                    }
                }
                var all: [(Double, Bool)] = []
                for try await part in workers {
                    all += part
                    progress.update(all.count)
                }
                return all
            }
            let seconds = started.duration(to: .now).seconds
            progress.finish()
            let statistics = await client.statistics()
            func percentile(_ values: [Double], _ p: Double) -> Double {
                let sorted = values.sorted()
                return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            }
            let hits = latencies.filter { $0.1 }.map(\.0), misses = latencies.filter { !$0.1 }.map(\.0)
            let report: [String: Any] = [
                "texts": requests, "texts_per_sec": Int(Double(requests) / seconds), "model_latency_ms": modelLatency, "concurrency": concurrency,
                "requests_sent": statistics.requests, "cache_hits": statistics.cacheHits,
                "cache_hit_rate": Double(statistics.cacheHits) / Double(max(requests, 1)),
                "hit_latency_ms": ["p50": percentile(hits, 0.5), "p99": percentile(hits, 0.99)],
                "miss_latency_ms": ["p50": percentile(misses, 0.5), "p99": percentile(misses, 0.99)],
            ]
            if json {
                printJSON(report)
            } else {
                print("\(requests) texts, \(Int(repeatShare * 100)) % repeats, stand-in model \(modelLatency) ms, \(concurrency) in flight: \(report["texts_per_sec"] ?? 0) texts/s")
                print("requests sent \(statistics.requests), cache hits \(statistics.cacheHits) (\(String(format: "%.1f", 100 * Double(statistics.cacheHits) / Double(max(requests, 1)))) %)")
                print(String(format: "latency: cache hit p50 %.3f ms p99 %.3f ms; model call p50 %.1f ms p99 %.1f ms",
                             percentile(hits, 0.5), percentile(hits, 0.99), percentile(misses, 0.5), percentile(misses, 0.99)))
            }
            group.cancelAll()
        }
    }
}

/// The port the stand-in server listens on, once it does.
private actor PortBox {
    private var port: Int?
    private var waiting: [CheckedContinuation<Int, Never>] = []

    func set(_ value: Int) {
        port = value
        for continuation in waiting { continuation.resume(returning: value) }
        waiting = []
    }

    func wait() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiting.append($0) }
    }
}
