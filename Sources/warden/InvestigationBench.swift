import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenSimulation
import WardenStore

/// `warden bench investigate`: the investigation paths at scale. Fills a store with simulated events
/// spread over the last day (or reuses one), then times a typical aggregate over the SQL views, a
/// 2-hop expansion of a busy entity, full-text searches, and PDQ matching against a large bank.
struct InvestigationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "investigate",
        abstract: "Time SQL aggregates, 2-hop expansion, search and PDQ matching over a large store.",
        discussion: """
            Appends --events simulated events (spread over the last 24 hours) to a store in --data-dir (a temporary one \
            when not given; an existing one with events is reused as it is), brings the entity graph and the search \
            index up to date, then measures. PDQ matching runs on its own: --hashes random hashes banked, half the queries \
            near copies of banked ones (up to 20 bits changed), half unrelated, at distance --distance, on one core.
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Events to load when the store is empty.") var events = 10_000_000
    @Option(help: "A data directory to fill or reuse (kept afterwards).") var dataDir: String?
    @Option(help: "Searches to time.") var searches = 300
    @Option(help: "Hashes in the PDQ bank (0 to skip).") var hashes = 1_000_000
    @Option(help: "PDQ lookups to time.") var lookups = 20_000
    @Option(help: "PDQ match distance.") var distance = 31
    @Flag(help: "Skip the store (PDQ matching only).") var pdqOnly = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        var report: [String: Any] = [:]
        if !pdqOnly { try await storeBenchmarks(into: &report) }
        if hashes > 0 { pdqBenchmark(into: &report) }
        if json { printJSON(report) }
    }

    func say(_ text: String) { if !json { print(text) } }

    func storeBenchmarks(into report: inout [String: Any]) async throws {
        let directory = dataDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-\(UUID().uuidString)").path
        defer { if dataDir == nil { try? FileManager.default.removeItem(atPath: directory) } }
        try DataDirectory(path: directory).prepare()
        let store = try SQLiteStore(path: DataDirectory(path: directory).databasePath)
        let fields = [["text"], ["bio"], ["title"]]
        var existing = try await store.searchIndexStatus().lastSeq
        if existing == 0 {
            let schema = try pack.load().eventSchema
            let now = SystemWallClock().nowMillis()
            var options = SimulationOptions(start: now - 86_400_000)
            options.seed = 20261201
            options.rate = Double(events) / 86_400
            var simulator = Simulator(options: options)
            var progress = ProgressBar(label: "load events", total: events)
            let started = ContinuousClock.now
            var loaded = 0
            while loaded < events {
                var batch: [IncomingEvent] = []
                batch.reserveCapacity(5_000)
                while batch.count < 5_000, loaded + batch.count < events, let event = simulator.next() {
                    let parsed = try event.json.withUnsafeBufferPointer { try schema.parse($0, now: now + 86_400_000) }
                    batch.append(IncomingEvent(parsed: parsed, body: event.json))
                }
                if batch.isEmpty { break }
                _ = try await store.append(batch, receivedAt: now)
                loaded += batch.count
                progress.update(loaded)
            }
            progress.finish()
            report["load_events_per_sec"] = Int(Double(loaded) / started.duration(to: .now).seconds)
            existing = Int64(loaded)
        }
        report["events"] = existing
        var graph = ProgressBar(label: "entity graph", total: Int(existing))
        let graphStarted = ContinuousClock.now
        try await EntityIndexer.catchUp(store, batchSize: 10_000) { graph.update(Int($0.indexedThroughSeq)) }
        graph.finish()
        report["graph_catch_up_seconds"] = rounded(graphStarted.duration(to: .now).seconds)
        let searchStarted = ContinuousClock.now
        var indexed = ProgressBar(label: "search index", total: Int(existing))
        var status = try await store.searchIndexStatus()
        while status.indexedThroughSeq < status.lastSeq {
            status = try await store.indexSearch(limit: 10_000, fields: fields)
            indexed.update(Int(status.indexedThroughSeq))
            if status.indexed == 0 { break }
        }
        indexed.finish()
        report["search_catch_up_seconds"] = rounded(searchStarted.duration(to: .now).seconds)

        // A typical aggregate: events by type and hour over the last day (through the views and the authorizer).
        let aggregate = "SELECT type, hour(occurred_at) AS hour, count(*) AS events FROM events WHERE occurred_at > ago('24h') GROUP BY 1, 2 ORDER BY 2, 1"
        var aggregateTimes: [Double] = []
        var groups = 0
        do {
            for _ in 0..<3 {
                let started = ContinuousClock.now
                let result = try await store.runQuery(aggregate, parameters: [:], limits: QueryLimits(rows: 100_000, millis: 60_000))
                aggregateTimes.append(started.duration(to: .now).seconds * 1000)
                groups = result.rows.count
            }
            aggregateTimes.sort()
            report["aggregate_ms_median"] = rounded(aggregateTimes[1])
            report["aggregate_groups"] = groups
            say("aggregate (events by type and hour, last day): \(groups) groups, median \(String(format: "%.0f", aggregateTimes[1])) ms of 3 runs")
        } catch let error as QueryError {
            report["aggregate_error"] = error.message
            say("aggregate (events by type and hour, last day): \(error.message)")
        }

        // A 2-hop expansion of a busy entity: the IP named by the most events among the first 200,000.
        let busiest = try await store.runQuery("""
            SELECT entities ->> '$.ip' AS ip, count(*) AS n FROM events WHERE seq <= 200000 AND entities ->> '$.ip' IS NOT NULL
            GROUP BY 1 ORDER BY 2 DESC LIMIT 1
            """, parameters: [:], limits: QueryLimits(rows: 1, millis: 60_000))
        if case .text(let ip)? = busiest.rows.first?.first {
            let links = LinkAnalysis(store: store, clock: SystemWallClock())
            var times: [Double] = []
            var nodes = 0
            for _ in 0..<5 {
                let started = ContinuousClock.now
                let expansion = try await links.expand(EntityRef(type: "ip", id: ip), hops: 2, maxDegree: 1_000, maxNodes: 5_000)
                times.append(started.duration(to: .now).seconds * 1000)
                nodes = expansion.hops.count
            }
            times.sort()
            report["expansion_ms_median"] = rounded(times[2])
            report["expansion_nodes"] = nodes
            say("2-hop expansion of ip:\(ip): \(nodes) nodes, median \(String(format: "%.1f", times[2])) ms of 5 runs")
        }

        // Searches: words drawn from what the simulator writes (common and rare), some with a type filter.
        let words = ["free", "crypto", "prize", "claim", "verify", "account", "meetup", "photos", "winner", "bitcoin", "loser", "pathetic",
                     "weekend", "click", "offer", "hello", "thanks", "dinner", "password", "gift"]
        var random = SplitMix64(seed: 7)
        var times: [Double] = []
        var hits = 0
        for index in 0..<searches {
            let first = words[Int(random.next() % UInt64(words.count))]
            let text = index % 3 == 0 ? first + " " + words[Int(random.next() % UInt64(words.count))] : first
            let query = SearchQuery(text: text, type: index % 4 == 0 ? "message.sent" : nil, limit: 50)
            let started = ContinuousClock.now
            hits += try await store.searchEvents(query).count
            times.append(started.duration(to: .now).seconds * 1000)
        }
        times.sort()
        report["search_ms_p50"] = rounded(percentile(times, 0.5))
        report["search_ms_p95"] = rounded(percentile(times, 0.95))
        report["search_ms_p99"] = rounded(percentile(times, 0.99))
        report["search_hits_mean"] = searches > 0 ? hits / searches : 0
        say("search (\(searches) queries, 50 newest hits each): p50 \(String(format: "%.1f", percentile(times, 0.5))) ms, "
            + "p95 \(String(format: "%.1f", percentile(times, 0.95))) ms, p99 \(String(format: "%.1f", percentile(times, 0.99))) ms")
    }

    func pdqBenchmark(into report: inout [String: Any]) {
        var random = SplitMix64(seed: 31)
        let banked = (0..<hashes).map { _ in Hash256(random.next(), random.next(), random.next(), random.next()) }
        let buildStarted = ContinuousClock.now
        let index = PDQIndex(banked)
        let buildSeconds = buildStarted.duration(to: .now).seconds
        var queries: [Hash256] = []
        queries.reserveCapacity(lookups)
        var expectedNear = 0
        for number in 0..<lookups {
            if number % 2 == 0 {
                var near = banked[Int(random.next() % UInt64(banked.count))]
                let flips = Int(random.next() % 21)
                for _ in 0..<flips {
                    let bit = Int(random.next() % 256)
                    let mask = UInt64(1) << UInt64(bit % 64)
                    switch bit / 64 {
                    case 0: near.w0 ^= mask
                    case 1: near.w1 ^= mask
                    case 2: near.w2 ^= mask
                    default: near.w3 ^= mask
                    }
                }
                queries.append(near)
                expectedNear += 1
            } else {
                queries.append(Hash256(random.next(), random.next(), random.next(), random.next()))
            }
        }
        let started = ContinuousClock.now
        var matched = 0
        for query in queries where index.nearest(query, within: distance) != nil { matched += 1 }
        let seconds = started.duration(to: .now).seconds
        let perSecond = Double(lookups) / seconds
        // The scan it replaces, on a sample.
        let sample = queries.prefix(50)
        let scanStarted = ContinuousClock.now
        for query in sample { _ = index.scan(query, within: distance) }
        let scanPerSecond = Double(sample.count) / scanStarted.duration(to: .now).seconds
        report["pdq_hashes"] = hashes
        report["pdq_distance"] = distance
        report["pdq_index_build_seconds"] = rounded(buildSeconds)
        report["pdq_index_mib"] = index.memoryBytes / 1_048_576
        report["pdq_lookups_per_sec"] = Int(perSecond)
        report["pdq_scan_lookups_per_sec"] = Int(scanPerSecond)
        report["pdq_matched"] = matched
        report["pdq_near_copies"] = expectedNear
        say("PDQ: \(hashes) hashes indexed in \(String(format: "%.2f", buildSeconds)) s (\(index.memoryBytes / 1_048_576) MiB); \(lookups) lookups at distance \(distance): "
            + "\(Int(perSecond)) lookups/s on one core (a full scan: \(Int(scanPerSecond))/s); \(matched) matched of \(expectedNear) near copies")
    }

    func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
