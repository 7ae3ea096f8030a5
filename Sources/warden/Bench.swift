import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization
import WardenCore
import WardenEngine
import WardenHTTP
import WardenRules
import WardenSimulation
import WardenStore

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure hot paths. Build with -c release for figures worth writing down.",
        subcommands: [IngestBench.self, StoreBench.self, CaseStoreBench.self, RulesBench.self, ClassifierBench.self, LanguageModelBench.self, ReviewBench.self, ConsoleBench.self, AlertBench.self, InvestigationBench.self, QualityBench.self]
    )
}

/// Simulated events for benchmarks, generated before the clock starts.
private func benchEvents(
    count: Int, seed: UInt64, rate: Double = 1000, cycleMillis: Int64 = 600_000, start: Int64 = SystemWallClock().nowMillis() - 86_400_000
) -> [SimulatedEvent] {
    var options = SimulationOptions(start: start)
    options.seed = seed
    options.rate = rate
    options.cycleMillis = cycleMillis
    var simulator = Simulator(options: options)
    return (0..<count).compactMap { _ in simulator.next() }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// Peak and current resident memory of this process, in MiB, from /proc.
func memoryMiB(pid: String = "self") -> (peak: Double, current: Double) {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return (0, 0) }
    func value(_ key: String) -> Double {
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kib / 1024
    }
    return (value("VmHWM:"), value("VmRSS:"))
}

/// CPU time a process has used so far (user and system, all its threads), in seconds, from
/// `/proc/<pid>/stat`; nil when the process cannot be read.
func cpuSeconds(pid: String = "self") -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    // After the command name (which may hold spaces, so read from its closing parenthesis): state is
    // field 3, utime and stime fields 14 and 15, in clock ticks.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Drive the real HTTP intake on loopback with NDJSON batches of simulated events.",
        discussion: """
            Without --to, starts an embedded server on a fresh temporary data directory. Prints events/s and request latency \
            percentiles, and how long the entity graph took to catch up.

            With --rate, a sustained run instead: batches offered at that many events/s for --duration seconds (open loop), \
            with each log consumer's lag (entity graph, detection, case builder, classification) and the server's memory read \
            once a second; it reports intake latency from each batch's scheduled time, lag percentiles per consumer, peak \
            memory, when everything caught up, and the lag over time; with --server-pid, also the server's CPU time per event \
            until everything caught up. The embedded server runs every consumer; for figures worth writing down, run \
            `warden serve` apart and pass --to and --server-pid.
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Events to send.") var events = 200_000
    @Option(help: "Events per request.") var batch = 1000
    @Option(help: "Concurrent connections.") var connections = 4
    @Option(help: "Base URL of a running server (default: an embedded one).") var to: String?
    @Option(help: "API token for --to (default: $WARDEN_TOKEN).") var token: String?
    @Option(help: "With --to, the server's pid, to report its resident memory (and, with --rate, its CPU time per event).") var serverPid: String?
    @Option(help: "Random seed for the simulated events.") var seed: UInt64 = 7
    @Option(help: "Sustained mode: offer this many events per second (see the discussion).") var rate: Double?
    @Option(help: "Sustained mode: for this many seconds.") var duration: Double = 60
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard batch > 0, connections > 0 else { throw ValidationError("--batch and --connections must be positive") }
    }

    func run() async throws {
        if let rate {
            try await sustained(rate: rate)
            return
        }
        let generated = benchEvents(count: events, seed: seed)
        var bodies: [[UInt8]] = []
        for start in stride(from: 0, to: generated.count, by: batch) {
            var body: [UInt8] = []
            for event in generated[start..<min(start + batch, generated.count)] {
                body += event.json
                body.append(UInt8(ascii: "\n"))
            }
            bodies.append(body)
        }
        let bytes = bodies.reduce(0) { $0 + $1.count }

        if let to {
            let report = try await drive(bodies, url: to, token: token ?? ProcessInfo.processInfo.environment["WARDEN_TOKEN"])
            print(report.render(json: json, bytes: bytes, rss: serverPid.map { memoryMiB(pid: $0) }))
            return
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dataDir = DataDirectory(path: directory)
        try dataDir.prepare()
        let store = try SQLiteStore(path: dataDir.databasePath)
        var logger = Logger(label: "warden-bench")
        logger.logLevel = .critical
        var configuration = WardenConfiguration(store: store, pack: try self.pack.load(), logger: logger)
        configuration.server.port = 0
        configuration.passwordCost = nil
        configuration.buildsClassifiers = false
        let components = await WardenComponents.build(configuration)
        let (_, secret) = try await components.tokens.create(name: "bench", scopes: [.eventsWrite])
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let indexer = EntityIndexer(store: store, tail: components.intake.tail, logger: logger)
        let app = WardenApplication.build(components, services: [indexer, PeriodicService.checkpointer(store: store, logger: logger)], logger: logger) { port in
            portContinuation.yield(port)
        }
        let report = try await withThrowingTaskGroup(of: BenchReport?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            var iterator = portStream.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ValidationError("the embedded server did not start") }
            let report = try await drive(bodies, url: "http://127.0.0.1:\(port)", token: secret, store: store)
            group.cancelAll()
            return report
        }
        let stored = try await store.statistics().eventCount
        guard stored == events else { throw ValidationError("the store holds \(stored) events, expected \(events)") }
        print(report.render(json: json, bytes: bytes, rss: memoryMiB()))
    }

    private func sustained(rate: Double) async throws {
        func load(_ url: String, token: String?, pid: String?) async throws -> SustainedLoad.Report {
            let run = SustainedLoad(url: url, token: token, rate: rate, seconds: duration, batch: batch, connections: connections, seed: seed, serverPid: pid)
            let bar = Mutex(ProgressBar(label: "bench sustained", total: Int(rate * duration)))
            let report = try await run.run { sent, _ in bar.withLock { $0.update(sent) } }
            bar.withLock { $0.finish() }
            return report
        }
        if let to {
            print(try await load(to, token: token ?? ProcessInfo.processInfo.environment["WARDEN_TOKEN"], pid: serverPid).render(json: json))
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let dataDir = DataDirectory(path: directory)
        try dataDir.prepare()
        var logger = Logger(label: "warden-bench")
        logger.logLevel = .critical
        var configuration = WardenConfiguration(store: try SQLiteStore(path: dataDir.databasePath), pack: try self.pack.load(), logger: logger)
        configuration.server.port = 0
        configuration.passwordCost = nil
        configuration.buildsClassifiers = false
        let components = await WardenComponents.build(configuration)
        let (_, secret) = try await components.tokens.create(name: "bench", scopes: [.eventsWrite])
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = WardenApplication.build(components, services: components.backgroundServices(), logger: logger) { port in
            portContinuation.yield(port)
        }
        let report = try await withThrowingTaskGroup(of: SustainedLoad.Report?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            var iterator = portStream.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ValidationError("the embedded server did not start") }
            let report = try await load("http://127.0.0.1:\(port)", token: secret, pid: nil)
            group.cancelAll()
            return report
        }
        print(report.render(json: json))
    }

    /// Sends `bodies`, then waits for the entity graph: through `store` when the server is embedded
    /// (it runs no metrics sampler), through the server's `/metrics` otherwise.
    private func drive(_ bodies: [[UInt8]], url: String, token: String?, store: SQLiteStore? = nil) async throws -> BenchReport {
        let client = HTTPClient.shared
        let sender = HTTPSender(client: client, baseURL: url, token: token)
        let next = NextIndex()
        var progress = ProgressBar(label: "bench ingest", total: bodies.count)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<connections {
                group.addTask {
                    var latencies: [Double] = []
                    while let index = next.take(below: bodies.count) {
                        let sent = ContinuousClock.now
                        let result = try await sender.sendCounting(bodies[index])
                        latencies.append(sent.duration(to: .now).seconds)
                        guard result.rejected + result.conflicts == 0 else {
                            throw ValidationError("batch \(index) had \(result.rejected) rejected and \(result.conflicts) conflicting lines")
                        }
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await part in group {
                all += part
                progress.update(all.count)
            }
            return all.sorted()
        }
        progress.finish()
        let seconds = started.duration(to: .now).seconds
        if let store {
            let deadline = ContinuousClock.now + .seconds(600)
            while try await store.consumerLags().first(where: { $0.consumer == "entity_graph" })?.items ?? 0 > 0 {
                guard ContinuousClock.now < deadline else { throw ValidationError("the entity graph did not catch up within 10 minutes") }
                try await Task.sleep(for: .milliseconds(20))
            }
        } else {
            try await waitForEntityGraph(url: url)
        }
        let graphSeconds = started.duration(to: .now).seconds
        let eventCount = bodies.reduce(0) { $0 + $1.count(where: { $0 == UInt8(ascii: "\n") }) }
        return BenchReport(events: eventCount, seconds: seconds, graphSeconds: graphSeconds, latencies: latencies, batch: batch,
                           connections: connections)
    }

    /// Polls `/metrics` until the entity graph has caught up with the log (the server samples
    /// consumer lag once a second, so this may see the catch-up up to a second late).
    private func waitForEntityGraph(url: String) async throws {
        let deadline = ContinuousClock.now + .seconds(600)
        while ContinuousClock.now < deadline {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.trimmingSuffix("/") + "/metrics"), timeout: .seconds(10))
            let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
            let lag = text.split(separator: "\n").first { $0.hasPrefix(#"warden_consumer_lag_events{consumer="entity_graph"} "#) }?
                .split(separator: " ").last
            if let lag, Double(lag) == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw ValidationError("the entity graph did not catch up within 10 minutes")
    }
}

/// Hands out request indexes to the connections.
private final class NextIndex: Sendable {
    private let counter = Mutex(0)
    func take(below limit: Int) -> Int? {
        counter.withLock { value in
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

import Synchronization

private struct BenchReport {
    var events: Int
    var seconds: Double
    var graphSeconds: Double
    var latencies: [Double]
    var batch: Int
    var connections: Int

    func render(json: Bool, bytes: Int, rss: (peak: Double, current: Double)?) -> String {
        let rate = Double(events) / seconds
        let ms = { (p: Double) in (percentile(latencies, p) * 1000 * 100).rounded() / 100 }
        if json {
            var object: [String: Any] = [
                "events": events, "seconds": (seconds * 1000).rounded() / 1000, "events_per_sec": Int(rate),
                "batch": batch, "connections": connections, "mb_per_sec": (Double(bytes) / seconds / 1e6 * 10).rounded() / 10,
                "latency_ms": ["p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "max": ms(1.0)],
                "entity_graph_caught_up_seconds": (graphSeconds * 1000).rounded() / 1000,
                "end_to_end_events_per_sec": Int(Double(events) / graphSeconds),
            ]
            if let rss { object["rss_peak_mib"] = rss.peak.rounded() }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
        var text = "\(events) events in \(String(format: "%.2f", seconds))s: \(Int(rate)) events/s durable "
        text += "(batches of \(batch), \(connections) connections)\n"
        text += "request latency ms: p50 \(ms(0.5))  p90 \(ms(0.9))  p99 \(ms(0.99))  max \(ms(1.0))\n"
        text += "entity graph caught up after \(String(format: "%.2f", graphSeconds))s: \(Int(Double(events) / graphSeconds)) events/s end to end"
        if let rss { text += "\nresident memory: peak \(Int(rss.peak)) MiB" }
        return text
    }
}

struct StoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Append pre-validated simulated events straight to the store (SQLite, or PostgreSQL with --database), without HTTP.",
        discussion: """
            Measures the store's durable insert rate (one transaction per batch; SQLite with synchronous=FULL, \
            PostgreSQL with its defaults, fsync on commit), then the entity graph's indexing rate. With \
            --database, the bench creates a database of its own on that server and drops it afterwards; \
            --writers N appends from N connection pools at once, as N nodes would.
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Events to append.") var events = 200_000
    @Option(help: "Events per transaction.") var batch = 1000
    @Option(help: "A postgres:// URL whose role may create databases: bench the PostgreSQL store there.") var database: String?
    @Option(help: "Writers appending at once (with --database, each its own connection pool, as separate nodes).") var writers = 1
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard events > 0, batch > 0 else { throw ValidationError("--events and --batch must be positive") }
        guard (1...64).contains(writers) else { throw ValidationError("--writers must be from 1 to 64") }
        if let database {
            do { _ = try PostgresConfiguration(url: database) } catch { throw ValidationError("--database: \(error)") }
        }
    }

    func run() async throws {
        let schema = try pack.load().eventSchema
        let now = SystemWallClock().nowMillis()
        let generated = benchEvents(count: events, seed: 11)
        var batches: [[IncomingEvent]] = []
        for start in stride(from: 0, to: generated.count, by: batch) {
            batches.append(try generated[start..<min(start + batch, generated.count)].map { event in
                let parsed = try event.json.withUnsafeBufferPointer { try schema.parse($0, now: now) }
                return IncomingEvent(parsed: parsed, body: event.json)
            })
        }
        let opened = try await BenchStores.open(database: database, nodes: writers)
        let (stores, cleanup) = (opened.stores, opened.cleanup)
        do {
            try await measure(batches, stores: stores, now: now)
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }

    private func measure(_ batches: [[IncomingEvent]], stores: [any EventStore], now: Int64) async throws {
        let progress = SharedProgress(ProgressBar(label: "bench store", total: batches.count))
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for (writer, store) in stores.enumerated() {
                let share = stride(from: writer, to: batches.count, by: stores.count).map { batches[$0] }
                group.addTask {
                    var seconds: [Double] = []
                    for events in share {
                        let begun = ContinuousClock.now
                        _ = try await store.append(events, receivedAt: now)
                        seconds.append(begun.duration(to: .now).seconds)
                        progress.step()
                    }
                    return seconds
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
        progress.finish()
        let seconds = started.duration(to: .now).seconds
        let rate = Int(Double(events) / seconds)
        let sorted = latencies.sorted()
        let p50 = sorted[sorted.count / 2] * 1000, p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000
        let indexStarted = ContinuousClock.now
        try await EntityIndexer.catchUp(stores[0], batchSize: 10_000)
        let indexSeconds = indexStarted.duration(to: .now).seconds
        let indexRate = Int(Double(events) / indexSeconds)
        let store = database == nil ? "sqlite" : "postgres"
        if json {
            printJSON(["store": store, "events": events, "batch": batch, "writers": writers, "seconds": (seconds * 1000).rounded() / 1000,
                       "events_per_sec": rate, "commit_p50_ms": (p50 * 100).rounded() / 100, "commit_p99_ms": (p99 * 100).rounded() / 100,
                       "entity_index_seconds": (indexSeconds * 1000).rounded() / 1000, "entity_index_events_per_sec": indexRate])
        } else {
            print("\(events) events appended to \(store) in \(String(format: "%.2f", seconds))s by \(writers) writer(s): \(rate) events/s durable "
                  + "(transactions of \(batch); commit p50 \(String(format: "%.1f", p50)) ms, p99 \(String(format: "%.1f", p99)) ms)")
            print("entity graph indexed in \(String(format: "%.2f", indexSeconds))s: \(indexRate) events/s (transactions of 10000)")
        }
    }
}

/// Stores for a benchmark: with a `postgres://` URL, `nodes` PostgreSQL stores (a connection pool
/// each, as separate nodes) on a database of the bench's own, dropped by `cleanup`; otherwise one
/// SQLite store in a temporary directory, `nodes` times over.
struct BenchStores {
    var stores: [any EventStore & CaseStore]
    /// The bench's own PostgreSQL database, when it runs on one.
    var postgres: PostgresConfiguration? = nil
    var cleanup: @Sendable () async -> Void

    static func open(database: String?, nodes: Int) async throws -> BenchStores {
        if let database {
            let server = try PostgresConfiguration(url: database)
            var configuration = server
            configuration.database = "warden_bench_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12))"
            try await PostgresStore.createDatabase(configuration.database, server: server)
            var opened: [PostgresStore] = []
            for _ in 0..<nodes { opened.append(try await PostgresStore(configuration: configuration)) }
            let (stores, name) = (opened, configuration.database)
            return BenchStores(stores: stores, postgres: configuration) {
                for store in stores { store.shutdown() }
                try? await PostgresStore.dropDatabase(name, server: server)
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(UUID().uuidString)").path
        try DataDirectory(path: directory).prepare()
        let store = try SQLiteStore(path: DataDirectory(path: directory).databasePath)
        return BenchStores(stores: Array(repeating: store, count: nodes)) { try? FileManager.default.removeItem(atPath: directory) }
    }
}

/// A progress bar several tasks advance.
final class SharedProgress: Sendable {
    private let state: Mutex<(bar: ProgressBar, done: Int)>

    init(_ bar: ProgressBar) {
        state = Mutex((bar, 0))
    }

    func step() {
        state.withLock { state in
            state.done += 1
            state.bar.update(state.done)
        }
    }

    func finish() {
        state.withLock { $0.bar.finish() }
    }
}

struct RulesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Measure rule evaluation on one core: field extraction, rules, counters and labels per event.",
        discussion: "Runs the pack's rules over the events (NDJSON, default: simulated traffic), then a generated 100-rule pack over the same events."
    )

    @OptionGroup var pack: PackOption
    @Option(help: "NDJSON events (default: 200,000 simulated events).") var events: String?
    @Option(help: "Rules in the generated pack.") var generated = 100
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let loaded = try pack.load()
        var lines: [[UInt8]]
        if let events {
            guard let data = FileManager.default.contents(atPath: events) else { throw ValidationError("cannot read \(events)") }
            lines = data.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }.map(Array.init)
        } else {
            // A fixed start keeps the events, and so the figures, the same from run to run.
            lines = benchEvents(count: 200_000, seed: 5, rate: 50, cycleMillis: 1_800_000, start: 1_793_491_200_000).map(\.json)
        }
        let context = RuleContext(categories: loaded.taxonomy.categoryIDs, severities: loaded.taxonomy.severities, entityTypes: loaded.entityTypes) { path in
            FileManager.default.contents(atPath: (loaded.directory as NSString).appendingPathComponent(path)).flatMap { String(data: $0, encoding: .utf8) }
        }
        let big = try RuleSet.compile(files: [("generated.rules", Self.generatedRules(generated))], context: context)
        let (parseRate, events) = try measureParsing(lines, schema: loaded.eventSchema)
        // The larger pack first, so its memory growth is measured on a process that has not grown yet.
        let large = measure(big, lines, events)
        let example = measure(loaded.rules, lines, events)
        if json {
            printJSON(["events": lines.count, "example_rules": loaded.rules.rules.count, "generated_rules": big.rules.count,
                       "events_per_sec": large.rate, "example_events_per_sec": example.rate, "parse_events_per_sec": parseRate,
                       "rule_evaluations_per_sec": large.evaluations, "example_rule_evaluations_per_sec": example.evaluations,
                       "events_per_sec_with_parse": Self.combined(parseRate, large.rate),
                       "example_events_per_sec_with_parse": Self.combined(parseRate, example.rate),
                       "counter_keys": large.keys, "hits": large.hits, "bytes_per_counter_key": large.layoutBytesPerKey,
                       "resident_bytes_per_counter_key": large.bytesPerKey, "example_layout_bytes_per_counter_key": example.layoutBytesPerKey,
                       "example_bytes_per_counter_key": example.bytesPerKey])
        } else {
            print("\(lines.count) events, one core")
            print("parsing (intake, once per event): \(parseRate) events/s")
            print("example pack (\(loaded.rules.rules.count) rules): \(example.rate) events/s detection (\(example.evaluations) rule evaluations/s), \(Self.combined(parseRate, example.rate)) with parsing; \(example.hits) hits, \(example.keys) live counter keys, \(example.layoutBytesPerKey) bytes/key by layout (resident growth \(example.bytesPerKey))")
            print("generated pack (\(big.rules.count) rules): \(large.rate) events/s detection (\(large.evaluations) rule evaluations/s), \(Self.combined(parseRate, large.rate)) with parsing; \(large.hits) hits, \(large.keys) live counter keys, \(large.layoutBytesPerKey) bytes/key by layout (resident growth \(large.bytesPerKey))")
        }
    }

    /// Events parsed per second: intake's cost, paid once per event before detection.
    private func measureParsing(_ lines: [[UInt8]], schema: EventSchema) throws -> (rate: Int, events: [ParsedEvent]) {
        var parsed: [ParsedEvent] = []
        parsed.reserveCapacity(lines.count)
        let started = ContinuousClock.now
        for line in lines {
            if let event = try? line.withUnsafeBufferPointer({ buffer throws(EventError) in try schema.parse(buffer, now: .max / 4) }) {
                parsed.append(event)
            }
        }
        let seconds = started.duration(to: .now).seconds
        guard parsed.count == lines.count else { throw ValidationError("\(lines.count - parsed.count) of \(lines.count) events did not parse") }
        return (Int(Double(lines.count) / seconds), parsed)
    }

    /// Detection as the pipeline runs it: events arrive parsed (intake parsed them once, and the
    /// log tail hands them on), and each is run through `Detector.process`, which reads the `data`
    /// fields rules need from the event's bytes, updates counters, evaluates rules and applies labels.
    private func measure(_ rules: RuleSet, _ lines: [[UInt8]], _ events: [ParsedEvent])
        -> (rate: Int, evaluations: Int, hits: Int, keys: Int, bytesPerKey: Int, layoutBytesPerKey: Int) {
        let before = memoryMiB().current
        var detector = Detector(rules: rules)
        var hits = 0
        var progress = ProgressBar(label: "bench rules (\(rules.rules.count))", total: lines.count)
        let started = ContinuousClock.now
        for index in lines.indices {
            hits += detector.process(events[index], body: lines[index]).hits.count
            if index % 20_000 == 0 { progress.update(index) }
        }
        let seconds = started.duration(to: .now).seconds
        progress.finish()
        // Resident memory grown while the detector held its state, per live counter key (an upper
        // bound: it also counts labels, first-seen times and allocator slack).
        let grown = max(0, memoryMiB().current - before) * 1_048_576
        let keys = detector.counterKeyCount
        // Rule evaluations: each event is evaluated against the rules for its type (counted
        // after the clock stopped, so counting costs the measurement nothing).
        let evaluations = events.reduce(0) { $0 + detector.candidateCount(forEventType: $1.type) }
        return (Int(Double(lines.count) / seconds), Int(Double(evaluations) / seconds), hits, keys, keys == 0 ? 0 : Int(grown / Double(keys)),
                keys == 0 ? 0 : detector.counterStateBytes / keys)
    }

    /// Events per second through parsing and detection together, from the two separate rates.
    private static func combined(_ parseRate: Int, _ detectRate: Int) -> Int {
        Int(1 / (1 / Double(parseRate) + 1 / Double(detectRate)))
    }

    /// A pack of `count` rules shaped like real ones: field tests, lists, text tests and velocity
    /// counters over different keys and windows.
    static func generatedRules(_ count: Int) -> String {
        let shapes: [(Int) -> String] = [
            { "event.type == \"account.created\" and count(account.created by event.ip within \(5 + $0 % 30)m) > \(10 + $0 % 7)" },
            { "event.type == \"message.sent\" and event.data.text contains \"offer\($0)\"" },
            { "event.type == \"payment.attempted\" and event.data.amount > \(100 + $0 * 7) and event.data.currency == \"USD\"" },
            { "event.type == \"api.request\" and count(api.request by event.api_key within \(1 + $0 % 5)m) > \(60 + $0)" },
            { "event.type == \"payment.attempted\" and distinct(event.card by event.actor within \(1 + $0 % 12)h) >= \(4 + $0 % 3)" },
            { "event.type == \"message.sent\" and event.data.recipient == \"u\($0)\" and count(message.sent by event.actor within 10m) > \(20 + $0 % 10)" },
            { "event.type == \"session.login\" and event.data.success == false and count(session.login by event.ip within 1h where event.data.success == false) > \(5 + $0 % 5)" },
            { "event.type in [\"content.posted\", \"message.sent\"] and event.data.text startswith \"WIN\($0)\"" },
        ]
        return (0..<count).map { index in
            "rule generated_\(index) \"generated rule \(index)\" category spam severity low mode \(index % 4 == 0 ? "shadow" : "active")\n"
                + "when \(shapes[index % shapes.count](index))\nthen signal\n"
        }.joined(separator: "\n")
    }
}

/// A benchmark's data directory: the one given, kept afterwards; or a fresh temporary one, which
/// `discard()` removes (benches call it in a `defer`, so a failed run leaves nothing behind either).
struct BenchDirectory {
    let path: String
    let isTemporary: Bool

    init(given: String?, name: String) {
        path = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(name)-\(UUID().uuidString)").path
        isTemporary = given == nil
    }

    func discard() {
        if isTemporary { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// What a benchmark's embedded server is built from: the store on `directory`, quiet logging, a
/// free port, no classifiers and no people unless `passwordCost` is given.
func benchConfiguration(pack: PolicyPack, directory: BenchDirectory, passwordCost: UInt8? = nil) throws -> (SQLiteStore, WardenConfiguration) {
    let data = DataDirectory(path: directory.path)
    try data.prepare()
    let store = try SQLiteStore(path: data.databasePath)
    var logger = Logger(label: "warden-bench")
    logger.logLevel = .critical
    var configuration = WardenConfiguration(store: store, pack: pack, logger: logger)
    configuration.server.port = 0
    configuration.passwordCost = passwordCost
    configuration.buildsClassifiers = false
    return (store, configuration)
}
