import ArgumentParser
import Foundation
import Synchronization
import WardenCore
import WardenEngine
import WardenReview
import WardenStore

/// `warden bench cases`: claim-next and decide straight on a store, without HTTP, on SQLite or on
/// PostgreSQL with reviewers spread over several nodes.
struct CaseStoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Claim and decide straight on the store (SQLite, or PostgreSQL with --database), reviewers spread over nodes.",
        discussion: """
            Seeds --cases open spam cases through the case builder's merge, then --reviewers reviewers claim the \
            next case and decide it (a violation, no actions) until --decisions decisions are made, timing each \
            claim and decision at the store. With --database the bench creates a database of its own on that \
            server (dropped afterwards) and --nodes connection pools, the reviewers taking turns over them, as \
            reviewers on several Warden nodes would. Reports latency percentiles, decisions per second and \
            double claims (a case claimed twice: must be 0).
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Open cases to seed.") var cases = 100_000
    @Option(help: "Decisions to make.") var decisions = 3_000
    @Option(help: "Reviewers claiming and deciding at once.") var reviewers = 4
    @Option(help: "With --database: connection pools (nodes) the reviewers are spread over.") var nodes = 1
    @Option(help: "A postgres:// URL whose role may create databases: bench the PostgreSQL store there.") var database: String?
    @Flag(help: "With --database: seed the cases in a temporary SQLite store and copy them in as `warden migrate` does (the same cases, much sooner than merging each on PostgreSQL).")
    var seedViaSqlite = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard cases > 0, decisions > 0, decisions <= cases else { throw ValidationError("--cases and --decisions must be positive, --decisions at most --cases") }
        guard (1...64).contains(reviewers), (1...16).contains(nodes) else { throw ValidationError("--reviewers must be 1–64 and --nodes 1–16") }
        if let database {
            do { _ = try PostgresConfiguration(url: database) } catch { throw ValidationError("--database: \(error)") }
        }
    }

    func run() async throws {
        let policyPack = try pack.load()
        let policy = ReviewPolicy(configuration: policyPack.review.configuration, severities: policyPack.taxonomy.severities, leaseMillis: 300_000)
        let context = DecisionContext(catalogue: policyPack.review.catalogue, dsaCategories: [:], dsaKeywords: [:])
        let opened = try await BenchStores.open(database: database, nodes: database == nil ? 1 : nodes)
        let (stores, cleanup) = (opened.stores, opened.cleanup)
        do {
            let seedStarted = ContinuousClock.now
            if seedViaSqlite, let target = opened.postgres {
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-bench-seed-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: directory) }
                let path = directory.appendingPathComponent("warden.sqlite").path
                try await ReviewBench.seed(cases, store: try SQLiteStore(path: path), policy: policy)
                let copyStarted = ContinuousClock.now
                let copy = SharedProgress(ProgressBar(label: "copying into PostgreSQL", total: nil))
                let report = try await StoreCopy.sqliteToPostgres(sqlitePath: path, target: target) { _, _ in copy.step() }
                copy.finish()
                let rows = report.tables.reduce(0) { $0 + $1.rows }
                let copySeconds = copyStarted.duration(to: .now).seconds
                FileHandle.standardError.write(Data("copied \(rows) rows in \(String(format: "%.1f", copySeconds)) s (\(Int(Double(rows) / copySeconds)) rows/s)\n".utf8))
            } else {
                try await ReviewBench.seed(cases, store: stores[0], policy: policy)
            }
            let seedSeconds = seedStarted.duration(to: .now).seconds
            try await measure(stores, policy: policy, context: context, seedSeconds: seedSeconds)
        } catch {
            await cleanup()
            throw error
        }
        await cleanup()
    }

    private func measure(_ stores: [any EventStore & CaseStore], policy: ReviewPolicy, context: DecisionContext, seedSeconds: Double) async throws {
        let remaining = Countdown(decisions)
        let progress = SharedProgress(ProgressBar(label: "claim and decide", total: decisions))
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: (claims: [Double], decides: [Double], ids: [Int64]).self) { group in
            for index in 0..<reviewers {
                let store = stores[index % stores.count]
                let reviewer = ActorRef(.user, "bench\(index)")
                group.addTask {
                    var claims: [Double] = [], decides: [Double] = [], ids: [Int64] = []
                    while remaining.take() {
                        let claimStarted = ContinuousClock.now
                        guard let claimed = try await store.claimNext(queue: "spam", reviewer: reviewer, policy: policy,
                                                                      now: SystemWallClock().nowMillis()) else { break }
                        claims.append(claimStarted.duration(to: .now).seconds)
                        ids.append(claimed.id)
                        let decideStarted = ContinuousClock.now
                        _ = try await store.decide(caseID: claimed.id, DecisionDraft(category: "spam", violation: true, actions: [], rationale: "bench"),
                                                   actor: reviewer, context: context, policy: policy, now: SystemWallClock().nowMillis())
                        decides.append(decideStarted.duration(to: .now).seconds)
                        progress.step()
                    }
                    return (claims, decides, ids)
                }
            }
            return try await group.reduce(into: (claims: [Double](), decides: [Double](), ids: [Int64]())) {
                $0.claims += $1.claims
                $0.decides += $1.decides
                $0.ids += $1.ids
            }
        }
        progress.finish()
        let seconds = started.duration(to: .now).seconds
        let claims = results.claims.sorted(), decides = results.decides.sorted()
        let doubleClaims = results.ids.count - Set(results.ids).count
        func ms(_ values: [Double], _ p: Double) -> Double { ((values.isEmpty ? 0 : percentile(values, p)) * 1000 * 100).rounded() / 100 }
        let rate = Int(Double(decides.count) / seconds)
        let store = database == nil ? "sqlite" : "postgres"
        if json {
            printJSON(["store": store, "cases": cases, "decisions": decides.count, "reviewers": reviewers, "nodes": database == nil ? 1 : nodes,
                       "seed_seconds": (seedSeconds * 10).rounded() / 10, "decisions_per_sec": rate,
                       "claim_p50_ms": ms(claims, 0.5), "claim_p99_ms": ms(claims, 0.99), "decide_p50_ms": ms(decides, 0.5), "decide_p99_ms": ms(decides, 0.99),
                       "double_claims": doubleClaims])
        } else {
            print("\(store), \(cases) open cases (seeded in \(String(format: "%.0f", seedSeconds)) s), \(reviewers) reviewers"
                  + (database == nil ? "" : " over \(nodes) node(s)") + ": \(decides.count) decisions at \(rate)/s")
            print("claim p50 \(ms(claims, 0.5)) ms, p99 \(ms(claims, 0.99)) ms; decide p50 \(ms(decides, 0.5)) ms, p99 \(ms(decides, 0.99)) ms; double claims \(doubleClaims)")
        }
        if doubleClaims > 0 { throw ExitCode(1) }
    }
}

/// Work left for several tasks to take one piece at a time.
final class Countdown: Sendable {
    private let left: Atomic<Int>

    init(_ count: Int) {
        left = Atomic(count)
    }

    /// Takes one piece; false once none is left.
    func take() -> Bool {
        left.subtract(1, ordering: .relaxed).oldValue > 0
    }
}
