public import Logging
public import Metrics
public import ServiceLifecycle
import Synchronization
public import WardenCore
import WardenReview
public import WardenStore

/// Samples what an operations lead watches into gauges: each log consumer's lag (every tick, one
/// second by default), and every `queueEvery` ticks the undecided cases per queue, band and state,
/// the oldest waiting case, cases past an SLA warning or breach, the outbox, the statements of
/// reasons by submission, active incidents by severity and open alerts by rule. Every queue of the pack in force has its series from the start (zeros), so
/// a dashboard shows an empty queue as empty rather than missing. Reads only, on the store's readers.
public struct OperationsMetrics: Service {
    private let store: any OperationsStore & StatementStore
    private let packs: PackManager
    private let clock: any WallClock
    private let interval: Duration
    private let queueEvery: Int
    private let logger: Logger
    private let gauges: Gauges
    /// Where each queue sample is also published (for the console).
    private let board: QueueBoard?

    public init(store: any OperationsStore & StatementStore, packs: PackManager, clock: any WallClock = SystemWallClock(),
                interval: Duration = .seconds(1), queueEvery: Int = 10, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory,
                board: QueueBoard? = nil) {
        self.board = board
        self.store = store
        self.packs = packs
        self.clock = clock
        self.interval = interval
        self.queueEvery = max(1, queueEvery)
        self.logger = logger
        gauges = Gauges(factory: metrics)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var tick = 0
            while !Task.isCancelled {
                do {
                    try await sampleConsumers()
                    if tick % queueEvery == 0 { try await sampleQueues() }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("operations metrics not sampled", metadata: ["error": "\(error)"])
                }
                tick += 1
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Each consumer's lag, in items and in seconds.
    public func sampleConsumers() async throws {
        let now = clock.nowMillis()
        for lag in try await store.consumerLags() {
            gauges.set(.consumerLagEvents, ["consumer": lag.consumer], Double(lag.items))
            gauges.set(.consumerLagSeconds, ["consumer": lag.consumer], Double(max(0, now - (lag.oldestAt ?? now))) / 1000)
        }
    }

    /// Queues, the outbox and statements of reasons.
    public func sampleQueues() async throws {
        let now = clock.nowMillis()
        let stats = try await store.queueStats(warningFlags: QueueBoard.warningFlags, breachFlags: QueueBoard.breachFlags)
        board?.publish(stats, at: now)
        // Every queue of the pack, every band and state, starts at zero.
        let queues = Set(packs.pack.review.configuration.queues.keys).union(stats.map(\.queue))
        var open: [[String: String]: Double] = [:]
        var oldest: [[String: String]: Double] = [:]
        var sla: [[String: String]: Double] = [:]
        for queue in queues {
            for band in CasePriority.Band.allCases {
                for state in ["open", "escalated", "in_review", "on_hold"] { open[["queue": queue, "band": band.name, "state": state]] = 0 }
                oldest[["queue": queue, "band": band.name]] = 0
            }
            for status in ["warning", "breached"] { sla[["queue": queue, "status": status]] = 0 }
        }
        for stat in stats {
            let band = CasePriority.Band(rawValue: stat.band)?.name ?? "p\(stat.band)"
            open[["queue": stat.queue, "band": band, "state": stat.state], default: 0] += Double(stat.count)
            if stat.state == "open" || stat.state == "escalated", let created = stat.oldestCreatedAt {
                let age = Double(max(0, now - created)) / 1000
                oldest[["queue": stat.queue, "band": band]] = max(oldest[["queue": stat.queue, "band": band]] ?? 0, age)
            }
            sla[["queue": stat.queue, "status": "warning"], default: 0] += Double(stat.warnings)
            sla[["queue": stat.queue, "status": "breached"], default: 0] += Double(stat.breaches)
        }
        gauges.registerCounters(queues: queues)
        for (labels, value) in open { gauges.set(.casesOpen, labels, value) }
        for (labels, value) in oldest { gauges.set(.oldestWaiting, labels, value) }
        for (labels, value) in sla { gauges.set(.casesSLA, labels, value) }
        for (state, count) in try await store.outboxCounts() { gauges.set(.outbox, ["state": state], Double(count)) }
        for (submission, count) in try await store.submissionCounts() { gauges.set(.statements, ["submission": submission], Double(count)) }
        // Every severity and alert rule of the pack has its series from the start.
        let (incidents, alerts) = try await store.incidentCounts()
        let pack = packs.pack.incidents
        for severity in Set(pack.settings.severities.map(\.id)).union(incidents.keys) {
            gauges.set(.incidentsActive, ["severity": severity], Double(incidents[severity] ?? 0))
        }
        for rule in Set(pack.alerts.map(\.name)).union(alerts.keys) { gauges.set(.alertsOpen, ["rule": rule], Double(alerts[rule] ?? 0)) }
    }

    /// The gauges made so far, by series and labels.
    final class Gauges: Sendable {
        private let factory: any MetricsFactory
        private let made = Mutex<[String: Gauge]>([:])
        private let countedQueues = Mutex<Set<String>>([])

        /// Registers the per-queue counters (SLA events, decisions) at zero, so a rate over them
        /// exists before the first event.
        func registerCounters(queues: Set<String>) {
            let new = countedQueues.withLock { counted in
                let new = queues.subtracting(counted)
                counted.formUnion(new)
                return new
            }
            for queue in new {
                for event in SLAEvent.allCases {
                    _ = Counter(label: WardenMetric.slaEvents.rawValue, dimensions: [("queue", queue), ("event", event.rawValue)], factory: factory)
                }
                for outcome in ["violation", "no_violation"] + DecisionDraft.AppealOutcome.allCases.map(\.rawValue) {
                    _ = Counter(label: WardenMetric.decisions.rawValue, dimensions: [("queue", queue), ("outcome", outcome)], factory: factory)
                }
            }
        }

        init(factory: any MetricsFactory) {
            self.factory = factory
        }

        func set(_ metric: WardenMetric, _ labels: [String: String], _ value: Double) {
            let dimensions = metric.labels.map { ($0, labels[$0] ?? "") }
            let key = metric.rawValue + dimensions.map { "\u{1}" + $0.1 }.joined()
            let gauge = made.withLock { made in
                if let gauge = made[key] { return gauge }
                let gauge = Gauge(label: metric.rawValue, dimensions: dimensions, factory: factory)
                made[key] = gauge
                return gauge
            }
            gauge.record(value)
        }
    }
}
