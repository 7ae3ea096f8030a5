import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import WardenCore
import WardenEngine
import WardenHTTP
import WardenReview
import WardenStore

/// `warden bench console`: the web console's busiest pages under a large backlog, timed at the
/// client over loopback (one signed-in reviewer, requests one after another).
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Time the console's review screen, queue overview, home and queue pages with a large backlog of open cases.",
        discussion: """
            Seeds --cases open cases as `warden bench review` does (a --data-dir that holds them is reused), starts \
            an embedded server with the operations sampler (which keeps the queue overview's backlog fresh, as serve \
            does), signs a reviewer in, then for --rounds rounds: claims the next case (POST /queues/spam/next), \
            renders it (GET /cases/{id}), renders the queue overview (GET /queues), home (GET /) and the queue's page \
            (GET /queues/spam), and decides the case (no violation), as a reviewer's day goes. Reports p50/p95/p99 per page; the issue's limit is p95 < 50 ms \
            for the review screen and the queue overview.
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Open cases to seed.") var cases = 1_000_000
    @Option(help: "Rounds (each claims, renders every page once, decides).") var rounds = 300
    @Option(help: "Rounds first, unmeasured.") var warmup = 20
    @Option(help: "Reuse (or keep) this data directory; a fresh temporary one otherwise, removed afterwards.") var dataDir: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let policyPack = try pack.load()
        let directory = BenchDirectory(given: dataDir, name: "console")
        defer { directory.discard() }
        let (store, configuration) = try benchConfiguration(pack: policyPack, directory: directory, passwordCost: 4)
        let logger = configuration.logger
        let components = await WardenComponents.build(configuration)
        try await ReviewBench.seed(cases, store: store, policy: components.review.policy)
        try await store.checkpoint(truncate: true)
        guard let users = components.users else { throw ValidationError("the bench needs user accounts") }
        let name = "bench-reviewer-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await users.add(name: name, role: .reviewer, password: "bench password 2026", teams: ["trust"], actor: "cli:bench")
        let (secret, session, _) = try await users.login(name: name, password: "bench password 2026")
        let sampler = OperationsMetrics(store: store, packs: components.packs, clock: components.clock, logger: logger,
                                        metrics: DocumentedMetricsFactory(registry: configuration.registry), board: components.queueBoard)
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = WardenApplication.build(components, services: [sampler], logger: logger) { port in portContinuation.yield(port) }
        let results = try await withThrowingTaskGroup(of: [String: [Double]]?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            var iterator = portStream.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ValidationError("the embedded server did not start") }
            let results = try await drive(base: "http://127.0.0.1:\(port)", cookie: "warden_session=\(secret)", csrf: session.csrfToken)
            group.cancelAll()
            return results
        }
        let pages = ["review screen (GET /cases/{id})", "queue overview (GET /queues)", "home (GET /)", "queue page (GET /queues/spam)",
                     "claim next (POST, 303)"]
        if json {
            var object: [String: Any] = ["cases": cases, "rounds": rounds]
            for page in pages {
                let sorted = (results[page] ?? []).sorted()
                object[page] = ["p50_ms": percentile(sorted, 0.5) * 1000, "p95_ms": percentile(sorted, 0.95) * 1000, "p99_ms": percentile(sorted, 0.99) * 1000]
            }
            printJSON(object)
        } else {
            print("console, \(cases) open cases, \(rounds) rounds (after \(warmup) unmeasured):")
            for page in pages {
                let sorted = (results[page] ?? []).sorted()
                let ms = { (p: Double) in String(format: "%.2f", percentile(sorted, p) * 1000) }
                print("  \(page.padding(toLength: 34, withPad: " ", startingAt: 0)) p50 \(ms(0.5)) ms   p95 \(ms(0.95)) ms   p99 \(ms(0.99)) ms")
            }
        }
    }

    private func drive(base: String, cookie: String, csrf: String) async throws -> [String: [Double]] {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let results = try await measure(client, base: base, cookie: cookie, csrf: csrf)
            try await client.shutdown()
            return results
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func measure(_ client: HTTPClient, base: String, cookie: String, csrf: String) async throws -> [String: [Double]] {
        var results: [String: [Double]] = [:]
        func request(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> (status: UInt, location: String?, seconds: Double) {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            request.headers.add(name: "Cookie", value: cookie)
            if let body {
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let sent = ContinuousClock.now
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 16 << 20)
            return (response.status.code, response.headers.first(name: "Location"), sent.duration(to: .now).seconds)
        }
        let form = "_csrf=\(csrf)"
        var progress = ProgressBar(label: "rounds", total: warmup + rounds)
        for round in 0..<(warmup + rounds) {
            let measured = round >= warmup
            let claim = try await request(.POST, "/queues/spam/next", body: form)
            guard claim.status == 303, let location = claim.location, location.hasPrefix("/cases/") else {
                throw ValidationError("claim next answered \(claim.status) \(claim.location ?? "")")
            }
            var timings: [(String, Double)] = [("claim next (POST, 303)", claim.seconds)]
            for (page, path) in [("review screen (GET /cases/{id})", location), ("queue overview (GET /queues)", "/queues"), ("home (GET /)", "/"),
                                 ("queue page (GET /queues/spam)", "/queues/spam")] {
                let answer = try await request(.GET, path)
                guard answer.status == 200 else { throw ValidationError("\(path) answered \(answer.status)") }
                timings.append((page, answer.seconds))
            }
            let decided = try await request(.POST, location + "/decide", body: form + "&violation=false&category=spam&rationale=bench")
            guard decided.status == 303 else { throw ValidationError("deciding \(location) answered \(decided.status)") }
            if measured { for (page, seconds) in timings { results[page, default: []].append(seconds) } }
            progress.update(round + 1)
        }
        progress.finish()
        return results
    }
}
