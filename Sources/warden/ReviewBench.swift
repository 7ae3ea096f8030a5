import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import WardenCore
import WardenReview
import WardenEngine
import WardenHTTP
import WardenStore

/// `warden bench review`: reviewers claiming and deciding over HTTP against a large backlog, with the
/// product's webhook receiver down for a while in the middle.
struct ReviewBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Concurrent reviewers claim and decide over HTTP against a large backlog of open cases; the webhook receiver goes down mid-run.",
        discussion: """
            Seeds --cases open cases (through the case builder's merge, in batches; a --data-dir that already \
            holds them is reused), starts an embedded server with the outbox deliverer pointed at a local \
            receiver, and runs --reviewers reviewers at --rate decisions/s in total: first --warmup seconds \
            unmeasured (reported apart), then --seconds measured. The receiver answers 503 from --outage-at \
            (counted after the warm-up) for --outage seconds. Reports claim-next and decide latency \
            percentiles, decide p99 per 10 s, double claims (must be 0), and, once the outbox drains, \
            deliveries expected (warm-up included), applied once by idempotency key, lost (must be 0) and \
            repeated at the wire.

            With --server-process the server is a `warden serve` child on the seeded data directory (all of serve's \
            background work, the pack's webhook settings, listening on --server-port), so its CPU and memory are its own \
            and a profiler can be pointed at its pid alone; the reviewers and the receiver stay in this process.
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Open cases to seed.") var cases = 1_000_000
    @Option(help: "Concurrent reviewers.") var reviewers = 50
    @Option(help: "Decisions per second, all reviewers together.") var rate = 500.0
    @Option(help: "How long reviewers work (seconds), after the warm-up.") var seconds = 120.0
    @Option(help: "Seconds reviewers work first without being measured (caches fill); reported apart.") var warmup = 10.0
    @Option(help: "When the receiver goes down (seconds into the run).") var outageAt = 30.0
    @Option(help: "How long it stays down (seconds).") var outage = 60.0
    @Option(help: "Reuse (or keep) this data directory; a fresh temporary one otherwise, removed afterwards.") var dataDir: String?
    @Option(help: "Milliseconds between WAL checkpoints (0: only SQLite's own backstop), as serve does every 100 (embedded server only).") var checkpointInterval = 100
    @Option(help: "Webhook attempts per second at most, as enforcement.yaml's webhook.max_per_second (embedded server only; a --server-process server uses the pack's).") var webhookRate = 1000
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Also time the store's claim and decide alone, one reviewer, no HTTP (to see what HTTP adds).") var storeOnly = false
    @Flag(help: "Run the server as a `warden serve` child process (see the discussion).") var serverProcess = false
    @Option(help: "With --server-process, the port the server listens on.") var serverPort = 18184

    func validate() throws {
        guard cases > 0, reviewers > 0, rate > 0, seconds > 0, warmup >= 0 else {
            throw ValidationError("--cases, --reviewers, --rate and --seconds must be positive, --warmup not negative")
        }
        guard (1...65535).contains(serverPort) else { throw ValidationError("--server-port must be a port number, 1 to 65535") }
    }

    func run() async throws {
        let policyPack = try pack.load()
        let directory = BenchDirectory(given: dataDir, name: "review")
        defer { directory.discard() }
        let (store, configuration) = try benchConfiguration(pack: policyPack, directory: directory)
        let logger = configuration.logger
        let components = await WardenComponents.build(configuration)
        let review = components.review
        try await Self.seed(cases, store: store, policy: review.policy)
        // Seeding is setup: its WAL is moved into the database before the clock starts.
        try await store.checkpoint(truncate: true)
        if storeOnly {
            var claims: [Double] = [], decides: [Double] = []
            for _ in 0..<2000 {
                let sent = ContinuousClock.now
                guard let claimed = try await review.claimNext(queue: "spam", reviewer: ActorRef(.token, "direct")) else { break }
                claims.append(sent.duration(to: .now).seconds)
                let decideSent = ContinuousClock.now
                _ = try await review.decide(caseID: claimed.id, DecisionDraft(category: "spam", violation: true, actions: [], rationale: "bench"),
                                            actor: ActorRef(.token, "direct"))
                decides.append(decideSent.duration(to: .now).seconds)
            }
            claims.sort()
            decides.sort()
            let ms = { (values: [Double], p: Double) in (percentile(values, p) * 1000 * 100).rounded() / 100 }
            print("store only, one reviewer: claim p50 \(ms(claims, 0.5)) p99 \(ms(claims, 0.99)) ms; decide p50 \(ms(decides, 0.5)) p99 \(ms(decides, 0.99)) ms")
        }

        var secrets: [String] = []
        for index in 0..<reviewers {
            secrets.append(try await components.tokens.create(name: "bench reviewer \(index)", scopes: [.casesReview]).1)
        }
        let receiver = BenchReceiver(secret: "whsec_bench")
        let receiverApp = Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                      onServerRunning: { channel in receiver.port.withLock { $0 = channel.localAddress?.port ?? 0 } }, logger: logger)
        let report: Report
        if serverProcess {
            report = try await withThrowingTaskGroup(of: Report?.self) { group in
                group.addTask {
                    try await receiverApp.runService(gracefulShutdownSignals: [])
                    return nil
                }
                while receiver.port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
                let server = try await ChildServer.start(dataDir: directory.path, pack: pack.policyPack, port: serverPort,
                                                         webhook: "http://127.0.0.1:\(receiver.port.withLock { $0 })/hooks", secret: "whsec_bench")
                defer { server.stop() }
                let url = "http://127.0.0.1:\(serverPort)"
                // The server's own request durations over the measured part: its histograms read as the warm-up ends and again after.
                let warmupEnd = ContinuousClock.now + .seconds(warmup)
                let atWarmupEnd = Task { () -> (ServerTimings?, Double?) in
                    try? await Task.sleep(until: warmupEnd)
                    return (try? await ServerTimings.scrape(url), cpuSeconds(pid: String(server.pid)))
                }
                var report = try await drive(url: url, secrets: secrets, receiver: receiver, store: store)
                let cpuAfter = cpuSeconds(pid: String(server.pid))
                report.serverPeakMiB = memoryMiB(pid: String(server.pid)).peak
                let (timingsBefore, cpuBefore) = await atWarmupEnd.value
                if let before = timingsBefore, let after = try? await ServerTimings.scrape(url) {
                    report.serverSide = after.since(before)
                }
                if let cpuBefore, let cpuAfter, report.decisions > 0 {
                    report.serverCPUPerDecision = (cpuAfter - cpuBefore) / Double(report.decisions)
                }
                group.cancelAll()
                return report
            }
        } else {
            var webhookSettings = WebhookSettings(url: nil, secret: "whsec_bench")
            webhookSettings.maxPerSecond = webhookRate
            let webhook = Mutex(webhookSettings)
            let deliverer = OutboxDeliverer(store: store, settings: { webhook.withLock { $0 } }, logger: logger,
                                            metrics: DocumentedMetricsFactory(registry: configuration.registry))
            let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let app = WardenApplication.build(components, services: [deliverer] + (checkpointInterval > 0 ? [PeriodicService.checkpointer(store: store, interval: .milliseconds(checkpointInterval), logger: logger)] : []),
                                              logger: logger) { port in portContinuation.yield(port) }

            report = try await withThrowingTaskGroup(of: Report?.self) { group in
                group.addTask {
                    try await app.runService(gracefulShutdownSignals: [])
                    return nil
                }
                group.addTask {
                    try await receiverApp.runService(gracefulShutdownSignals: [])
                    return nil
                }
                var iterator = portStream.makeAsyncIterator()
                guard let port = await iterator.next() else { throw ValidationError("the embedded server did not start") }
                while receiver.port.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
                webhook.withLock { $0.url = "http://127.0.0.1:\(receiver.port.withLock { $0 })/hooks" }
                let report = try await drive(url: "http://127.0.0.1:\(port)", secrets: secrets, receiver: receiver, store: store)
                group.cancelAll()
                return report
            }
        }
        print(report.render(json: json))
        if report.doubleClaims > 0 || report.lost > 0 { throw ExitCode(1) }
    }

    static let claimRoute = "/v1/queues/{queue}/next"
    static let decideRoute = "/v1/cases/{id}/decision"

    /// Seeds open spam cases (through the case builder's merge) up to `cases`; a store holding them already is reused.
    static func seed(_ cases: Int, store: any CaseStore, policy: ReviewPolicy) async throws {
        let existing = try await store.queueCounts(now: 0).filter { $0.queue == "spam" && $0.state == .open }.reduce(0) { $0 + $1.count }
        guard existing < cases else {
            FileHandle.standardError.write(Data("reusing \(existing) open cases\n".utf8))
            return
        }
        var progress = ProgressBar(label: "seeding cases", total: cases)
        let base = (try await store.caseBuilderCursors()).reports
        var made = existing
        let now = SystemWallClock().nowMillis()
        var generator = SplitMix64(seed: 7)
        while made < cases {
            let count = min(5000, cases - made)
            let inputs = (0..<count).map { offset -> CaseInput in
                let index = made + offset
                let roll = generator.next() % 100
                return CaseInput(kind: .report, ref: base + Int64(index) + 1, subject: EntityRef(type: "user", id: "bench\(index)"),
                                 category: roll < 5 ? "spam.links" : "spam", severity: roll < 10 ? "high" : roll < 40 ? "medium" : "low",
                                 reporter: "user:reporter\(index % 5000)", at: now - Int64(generator.next() % 86_400_000))
            }
            try await store.mergeIntoCases(inputs, signalsThrough: 0, reportsThrough: base + Int64(made + count), policy: policy, now: now)
            made += count
            progress.update(made - existing)
        }
        progress.finish()
    }

    struct Report {
        var decisions: Int
        var seconds: Double
        var claim: [Double]
        var decide: [Double]
        var doubleClaims: Int
        var expected: Int
        var applied: Int
        var lost: Int
        var repeated: Int
        var refusedDuringOutage: Int
        var drainSeconds: Double
        /// Decide latency p99 per 10 s of the run, to see where the tail comes from.
        var windows: [(start: Int, p99: Double)] = []
        /// The unmeasured warm-up and its p99 (claims and decisions together).
        var warmupSeconds: Double = 0
        var warmupP99: Double = 0
        /// With `--server-process`, the server's peak resident memory (this process's otherwise).
        var serverPeakMiB: Double?
        /// With `--server-process`, the server's own request durations over the measured part.
        var serverSide: ServerTimings?
        /// With `--server-process`, the server's CPU time (user and system) from the warm-up's end
        /// until the outbox drained, per decision: its claim, its decision and its webhook. A
        /// steadier figure than latencies on a noisy machine.
        var serverCPUPerDecision: Double?

        func render(json: Bool) -> String {
            let ms = { (values: [Double], p: Double) in (percentile(values, p) * 1000 * 100).rounded() / 100 }
            if json {
                let object: [String: Any] = [
                    "decisions": decisions, "seconds": seconds, "decisions_per_sec": Int(Double(decisions) / seconds),
                    "claim_ms": ["p50": ms(claim, 0.5), "p90": ms(claim, 0.9), "p99": ms(claim, 0.99), "max": ms(claim, 1)],
                    "decide_ms": ["p50": ms(decide, 0.5), "p90": ms(decide, 0.9), "p99": ms(decide, 0.99), "max": ms(decide, 1)],
                    "double_claims": doubleClaims, "deliveries_expected": expected, "deliveries_applied": applied, "lost": lost,
                    "repeated_at_wire": repeated, "refused_during_outage": refusedDuringOutage, "drain_seconds": drainSeconds,
                    "rss_peak_mib": (serverPeakMiB ?? memoryMiB().peak).rounded(),
                    "server": serverPeakMiB == nil ? "embedded" : "child process",
                    "server_side_ms": serverSide.map { timings in
                        Dictionary(uniqueKeysWithValues: [("claim", ReviewBench.claimRoute), ("decide", ReviewBench.decideRoute)].map { name, route in
                            (name, ["p50": timings.quantile(route, 0.5).map { ($0 * 1000 * 100).rounded() / 100 } ?? -1,
                                    "p99": timings.quantile(route, 0.99).map { ($0 * 1000 * 100).rounded() / 100 } ?? -1,
                                    "requests": timings.count(route)] as [String: Any])
                        })
                    } ?? [:],
                    "server_cpu_ms_per_decision": serverCPUPerDecision.map { ($0 * 1000 * 1000).rounded() / 1000 } ?? -1,
                    "warmup_seconds": warmupSeconds, "warmup_p99_ms": (warmupP99 * 1000 * 100).rounded() / 100,
                    "decide_p99_ms_by_10s": windows.map { ["start_s": $0.start, "p99": ($0.p99 * 1000 * 100).rounded() / 100] as [String: Any] },
                ]
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
                return String(decoding: data, as: UTF8.self)
            }
            return """
                \(decisions) decisions in \(String(format: "%.1f", seconds))s after a \(Int(warmupSeconds)) s warm-up (its p99: \(ms([warmupP99], 1)) ms): \(Int(Double(decisions) / seconds)) decisions/s
                claim-next ms: p50 \(ms(claim, 0.5))  p90 \(ms(claim, 0.9))  p99 \(ms(claim, 0.99))  max \(ms(claim, 1))
                decide ms:     p50 \(ms(decide, 0.5))  p90 \(ms(decide, 0.9))  p99 \(ms(decide, 0.99))  max \(ms(decide, 1))
                double claims: \(doubleClaims)
                webhooks: \(expected) expected, \(applied) applied once, \(lost) lost, \(repeated) repeated at the wire (absorbed by idempotency key), \
                \(refusedDuringOutage) refused during the outage; outbox drained \(String(format: "%.1f", drainSeconds))s after the run
                \(serverSide.map { timings in
                    let ms = { (route: String, q: Double) in timings.quantile(route, q).map { String(format: "%.1f", $0 * 1000) } ?? "-" }
                    return "inside the server (its histograms, interpolated in buckets): claim-next p50 \(ms(ReviewBench.claimRoute, 0.5)) p99 \(ms(ReviewBench.claimRoute, 0.99)) ms, "
                        + "decide p50 \(ms(ReviewBench.decideRoute, 0.5)) p99 \(ms(ReviewBench.decideRoute, 0.99)) ms\n"
                } ?? "")\(serverCPUPerDecision.map { String(format: "server CPU: %.2f ms per decision (its claim, decision and webhook)\n", $0 * 1000) } ?? "")resident memory: peak \(Int(serverPeakMiB ?? memoryMiB().peak)) MiB (\(serverPeakMiB == nil ? "this process, the embedded server included" : "the server process"))
                decide p99 by 10 s of the run (ms):
                \(windows.map { window in
                    let bar = String(repeating: "█", count: min(60, Int((window.p99 * 1000 / 2).rounded())))
                    return String(format: "  %4ds %7.1f ", window.start, window.p99 * 1000) + bar
                }.joined(separator: "\n"))
                """
        }
    }

    private func drive(url: String, secrets: [String], receiver: BenchReceiver, store: SQLiteStore) async throws -> Report {
        // A connection per reviewer, as each person's browser has its own. (HTTPClient.shared keeps
        // 8 per host: 50 reviewers queued for them inside this process, and the latencies included
        // the wait, ~36 ms of a 42 ms median at 500 decisions/s on 1M cases.)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: reviewers)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        do {
            let report = try await drive(client: client, url: url, secrets: secrets, receiver: receiver, store: store)
            try await client.shutdown()
            return report
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func drive(client: HTTPClient, url: String, secrets: [String], receiver: BenchReceiver, store: SQLiteStore) async throws -> Report {
        let tally = ClaimTally()
        let started = ContinuousClock.now
        let deadline = started + .seconds(warmup + seconds)
        let measuredFrom = warmup
        let interval = Double(reviewers) / rate
        let outageStart = started + .seconds(warmup + outageAt)
        let outageEnd = outageStart + .seconds(outage)
        let outageTask = Task {
            try await Task.sleep(until: outageStart)
            receiver.down.withLock { $0 = true }
            try await Task.sleep(until: outageEnd)
            receiver.down.withLock { $0 = false }
        }
        var progress = ProgressBar(label: "bench review (decisions)", total: Int(rate * (warmup + seconds)))
        let reviewerCount = reviewers
        let results = try await withThrowingTaskGroup(of: ([Double], [Double], [(Double, Double)], [Double]).self) { group in
            for (index, secret) in secrets.enumerated() {
                group.addTask {
                    var claims: [Double] = [], decides: [Double] = [], marks: [(Double, Double)] = [], warm: [Double] = []
                    var next = started + .seconds(interval * Double(index) / Double(reviewerCount))
                    var count = 0
                    while next < deadline {
                        try await Task.sleep(until: next)
                        next = next + .seconds(interval)
                        var request = HTTPClientRequest(url: url + "/v1/queues/spam/next")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(secret)")
                        let sent = ContinuousClock.now
                        let response = try await client.execute(request, timeout: .seconds(30))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        if started.duration(to: sent).seconds >= measuredFrom {
                            claims.append(sent.duration(to: .now).seconds)
                        } else {
                            warm.append(sent.duration(to: .now).seconds)
                        }
                        guard response.status == .ok,
                              let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                              let id = object["id"] as? Int else { break }
                        tally.record(Int64(id))
                        count += 1
                        let decision = count % 5 == 0
                            ? #"{"category":"spam","violation":true,"actions":[{"action":"remove_content"}],"rationale":"bench"}"#
                            : #"{"category":"spam","violation":true,"rationale":"bench"}"#
                        var decide = HTTPClientRequest(url: url + "/v1/cases/\(id)/decision")
                        decide.method = .POST
                        decide.headers.add(name: "Authorization", value: "Bearer \(secret)")
                        decide.headers.add(name: "Content-Type", value: "application/json")
                        decide.body = .bytes(ByteBuffer(string: decision))
                        let decideSent = ContinuousClock.now
                        let answer = try await client.execute(decide, timeout: .seconds(30))
                        let answerBody = try await answer.body.collect(upTo: 1 << 20)
                        let latency = decideSent.duration(to: .now).seconds
                        let at = started.duration(to: decideSent).seconds
                        if at >= measuredFrom { decides.append(latency) } else { warm.append(latency) }
                        marks.append((at - measuredFrom, latency))
                        guard answer.status == .created else {
                            throw ValidationError("decision on case \(id) answered \(answer.status.code): \(String(buffer: answerBody).prefix(300))")
                        }
                    }
                    return (claims, decides, marks, warm)
                }
            }
            var claims: [Double] = [], decides: [Double] = [], marks: [(Double, Double)] = [], warm: [Double] = []
            for try await (c, d, m, w) in group {
                claims += c
                decides += d
                marks += m
                warm += w
                progress.update(marks.count)
            }
            return (claims.sorted(), decides.sorted(), marks, warm.sorted())
        }
        let warmLatencies = results.3
        let windows = Dictionary(grouping: results.2.filter { $0.0 >= 0 }, by: { Int($0.0 / 10) * 10 }).sorted { $0.key < $1.key }.map { start, marks in
            (start: start, p99: percentile(marks.map(\.1).sorted(), 0.99))
        }
        progress.finish()
        let runSeconds = started.duration(to: .now).seconds - warmup
        outageTask.cancel()
        receiver.down.withLock { $0 = false }
        let drainStart = ContinuousClock.now
        var drain = ProgressBar(label: "draining the outbox", total: nil)
        while try await !store.outbox(state: .pending, limit: 1).isEmpty {
            drain.update(receiver.appliedCount)
            if drainStart.duration(to: .now) > .seconds(900) { throw ValidationError("the outbox did not drain within 15 minutes") }
            try await Task.sleep(for: .milliseconds(100))
        }
        drain.finish()
        let drainSeconds = drainStart.duration(to: .now).seconds
        // Every decision made, warm-up included, delivers one webhook.
        let expected = results.2.count
        let dead = try await store.outbox(state: .dead, limit: 1000).count
        let applied = receiver.appliedCount
        return Report(decisions: results.1.count, seconds: runSeconds, claim: results.0, decide: results.1,
                      doubleClaims: tally.doubles, expected: expected, applied: applied, lost: max(0, expected - applied) + dead,
                      repeated: receiver.repeated, refusedDuringOutage: receiver.refused, drainSeconds: drainSeconds, windows: windows,
                      warmupSeconds: warmup, warmupP99: percentile(warmLatencies, 0.99))
    }
}

/// Every case id any reviewer was given, and how many were given twice.
final class ClaimTally: Sendable {
    private let state = Mutex<(ids: Set<Int64>, doubles: Int)>(([], 0))

    func record(_ id: Int64) {
        state.withLock { state in
            if !state.ids.insert(id).inserted { state.doubles += 1 }
        }
    }

    var doubles: Int { state.withLock { $0.doubles } }
}

/// The product's webhook endpoint for the benchmark: verifies signatures, applies each key once,
/// answers 503 while `down`.
final class BenchReceiver: Sendable {
    let secret: String
    let port = Mutex(0)
    let down = Mutex(false)
    private let state = Mutex<(keys: Set<String>, repeated: Int, refused: Int, bad: Int)>(([], 0, 0, 0))

    init(secret: String) {
        self.secret = secret
    }

    var appliedCount: Int { state.withLock { $0.keys.count } }
    var repeated: Int { state.withLock { $0.repeated } }
    var refused: Int { state.withLock { $0.refused } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/hooks") { request, _ -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            func header(_ name: String) -> String { request.headers.first { $0.name.canonicalName == name }?.value ?? "" }
            if self.down.withLock({ $0 }) {
                self.state.withLock { $0.refused += 1 }
                return Response(status: .serviceUnavailable)
            }
            guard WebhookSignature.verify(header: header("warden-signature"), secret: self.secret, body: body,
                                          now: Int64(Date().timeIntervalSince1970)) else {
                self.state.withLock { $0.bad += 1 }
                return Response(status: .unauthorized)
            }
            let key = header("idempotency-key")
            self.state.withLock { state in
                if !state.keys.insert(key).inserted { state.repeated += 1 }
            }
            return Response(status: .ok)
        }
        return router
    }
}

/// A `warden serve` child process for `bench review --server-process`: started on a data directory,
/// ready once `/readyz` answers, stopped with SIGTERM.
struct ChildServer {
    let process: Process
    var pid: Int32 { process.processIdentifier }

    static func start(dataDir: String, pack: String, port: Int, webhook: String, secret: String) async throws -> ChildServer {
        var probe = HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz")
        probe.method = .GET
        if (try? await HTTPClient.shared.execute(probe, timeout: .seconds(2))) != nil {
            throw ValidationError("something already listens on port \(port): stop it or pass another --server-port")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = ["serve", "--data-dir", dataDir, "--policy-pack", pack, "--port", String(port), "--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_WEBHOOK_URL"] = webhook
        environment["WARDEN_WEBHOOK_SECRET"] = secret
        process.environment = environment
        let log = dataDir + "/bench-serve.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let server = ChildServer(process: process)
        let started = ContinuousClock.now
        while true {
            guard process.isRunning else {
                throw ValidationError("warden serve exited with status \(process.terminationStatus); the end of its output (\(log)):\n\(tail(of: log))")
            }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok { break }
            if started.duration(to: .now) > .seconds(300) {
                server.stop()
                throw ValidationError("warden serve was not ready on port \(port) within 5 minutes; the end of its output (\(log)):\n\(tail(of: log))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return server
    }

    /// The last lines of the child's log, for an error that outlives a temporary data directory.
    private static func tail(of log: String, lines: Int = 20) -> String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// A server's request durations per route, from the `http_server_request_duration` histograms of
/// its `/metrics`: cumulative counts per bucket bound, all statuses of a route together.
struct ServerTimings {
    var buckets: [String: [Double: Double]] = [:]

    static func scrape(_ base: String) async throws -> ServerTimings {
        var request = HTTPClientRequest(url: base + "/metrics")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return parse(String(buffer: try await response.body.collect(upTo: 64 << 20)))
    }

    static func parse(_ text: String) -> ServerTimings {
        var timings = ServerTimings()
        func label(_ name: String, in line: Substring) -> Substring? {
            guard let start = line.range(of: name + "=\"") else { return nil }
            let rest = line[start.upperBound...]
            return rest.firstIndex(of: "\"").map { rest[..<$0] }
        }
        for line in text.split(separator: "\n") where line.hasPrefix("http_server_request_duration_bucket{") {
            guard let route = label("http_route", in: line), let le = label("le", in: line),
                  let bound = le == "+Inf" ? Double.infinity : Double(le),
                  let count = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            timings.buckets[String(route), default: [:]][bound, default: 0] += count
        }
        return timings
    }

    /// The requests between `earlier` and this scrape.
    func since(_ earlier: ServerTimings) -> ServerTimings {
        var difference = self
        for (route, counts) in earlier.buckets {
            for (bound, count) in counts { difference.buckets[route]?[bound, default: 0] -= count }
        }
        return difference
    }

    func count(_ route: String) -> Int { Int(buckets[route]?[.infinity] ?? 0) }

    /// The `q` quantile as Prometheus's `histogram_quantile` estimates it: linear within the bucket it falls in.
    func quantile(_ route: String, _ q: Double) -> Double? {
        guard let counts = buckets[route], let total = counts[.infinity], total > 0 else { return nil }
        let rank = q * total
        var lower = 0.0, below = 0.0
        for (bound, count) in counts.sorted(by: { $0.key < $1.key }) {
            if count >= rank {
                guard bound.isFinite else { return lower }
                return count == below ? bound : lower + (bound - lower) * (rank - below) / (count - below)
            }
            lower = bound
            below = count
        }
        return lower
    }
}
