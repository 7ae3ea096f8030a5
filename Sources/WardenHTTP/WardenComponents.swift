public import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle
public import WardenEngine
public import WardenStore
public import WardenCore
public import WardenInvestigations

/// What a Warden instance is built from: the one value `serve`, the benchmarks and the test
/// harness each fill in and hand to ``WardenComponents/build(_:)``.
public struct WardenConfiguration: Sendable {
    /// The store: SQLite embedded, or PostgreSQL shared by several nodes.
    public var store: any WardenStorage
    /// The policy pack to start with (reloads read its directory again).
    public var pack: PolicyPack
    /// The clock every component reads.
    public var clock: any WallClock = SystemWallClock()
    /// Where `/metrics` reads from and every component's metrics go.
    public var registry = PrometheusCollectorRegistry()
    /// Where and how the HTTP server listens.
    public var server = ServerSettings()
    /// The logger components log to.
    public var logger: Logger
    /// bcrypt cost of people's passwords; nil leaves people out (only API tokens authenticate).
    public var passwordCost: UInt8? = 12
    /// Whether the pack's classifiers are built (trained or loaded) at start and on every reload.
    public var buildsClassifiers = true
    /// How long a claim lasts without activity (ms).
    public var leaseMillis: Int64 = 300_000
    /// How big a bulk job may be, and from what size a lead approves it.
    public var bulkLimits = BulkLimits()

    /// A configuration over `store` with `pack`; everything else at its default.
    public init(store: any WardenStorage, pack: PolicyPack, logger: Logger) {
        self.store = store
        self.pack = pack
        self.logger = logger
    }
}

/// What the HTTP layer serves: the engine's components, built once by ``build(_:)``.
public struct WardenComponents: Sendable {
    /// What they were built from.
    public var configuration: WardenConfiguration
    /// Intake.
    public var intake: Intake
    /// The store, behind each of its protocols.
    public var store: any WardenStorage
    /// API tokens.
    public var tokens: AccessTokens
    /// Detection.
    public var detection: DetectionPipeline
    /// The policy pack in force and its changes: everything that reads the pack reads it here.
    public var packs: PackManager
    /// Review operations.
    public var review: ReviewService
    /// People and sessions (nil: only API tokens authenticate).
    public var users: UserAccounts?
    /// The latest queue backlog sample (the console reads it).
    public var queueBoard = QueueBoard()
    /// Rule changes from the console.
    public var ruleEditor: RuleEditor
    /// Incidents, alerts and on-call.
    public var incidents: IncidentService
    /// The SQL console and saved queries.
    public var investigations: InvestigationService
    /// Clusters and expansion over the entity graph.
    public var links: LinkAnalysis
    /// Hash banks and matching.
    public var banks: HashBankService
    /// What rules read live: hash banks and derived tables.
    public var lookups: LiveLookups
    /// Saved queries materialised on a schedule.
    public var derived: DerivedTables
    /// Bulk jobs on what investigations found.
    public var bulk: BulkActions
    /// Quality reports: operational health.
    public var quality: QualityService

    /// The clock.
    public var clock: any WallClock { configuration.clock }
    /// Where `/metrics` reads from.
    public var registry: PrometheusCollectorRegistry { configuration.registry }

    /// Builds every component from `configuration`: the one place Warden is wired.
    public static func build(_ configuration: WardenConfiguration) async -> WardenComponents {
        let store = configuration.store
        let pack = configuration.pack
        let clock = configuration.clock
        let logger = configuration.logger
        let metrics = DocumentedMetricsFactory(registry: configuration.registry)
        let intake = Intake(store: store, schema: pack.eventSchema, clock: clock, metrics: metrics)
        let classifiers = configuration.buildsClassifiers
            ? await ClassifierRegistry.build(pack.classifiers, packDirectory: pack.directory, models: store)
            : ClassifierRegistry(entries: [:], moderation: [])
        for (name, entry) in classifiers.entries.sorted(by: { $0.key < $1.key }) {
            if case .unavailable(let reason) = entry { logger.warning("classifier \(name) is unavailable: \(reason)") }
        }
        let lookups = LiveLookups()
        let banks = HashBankService(store: store, lookups: lookups, clock: clock)
        do {
            try await banks.load()
            try await banks.ensure(pack.banks)
        } catch {
            logger.error("hash banks could not be loaded: \(String(reflecting: error))")
        }
        let derived = DerivedTables(store: store, lookups: lookups, clock: clock)
        let investigations = InvestigationService(store: store, clock: clock)
        do {
            try await derived.load()
            try await derived.ensure(pack.queries, investigations: investigations)
        } catch {
            logger.error("derived tables could not be loaded: \(String(reflecting: error))")
        }
        // On a store other nodes write, this node's intake sees only its own commits: detection
        // reads the log from the store; and it snapshots its counters every 30 s instead of 5 min,
        // so a node taking detection over replays at most half a minute of the log.
        let detection = DetectionPipeline(rules: pack.rules, events: store, tail: store.isShared ? nil : intake.tail, detections: store, clock: clock,
                                          snapshotInterval: store.isShared ? .seconds(30) : .seconds(300),
                                          scorers: classifiers.scorers, served: classifiers.served, lookups: lookups, logger: logger, metrics: metrics)
        var rebuild: (@Sendable (PolicyPack) async -> ClassifierRegistry)?
        if configuration.buildsClassifiers {
            rebuild = { pack in await ClassifierRegistry.build(pack.classifiers, packDirectory: pack.directory, models: store) }
        }
        let packs = PackManager(pack: pack, pipeline: detection, intake: intake, history: store, clock: clock, logger: logger, classifiers: classifiers,
                                buildClassifiers: rebuild)
        let review = ReviewService(store: store, packs: packs, clock: clock, leaseMillis: configuration.leaseMillis, metrics: metrics)
        let links = LinkAnalysis(store: store, clock: clock)
        return WardenComponents(
            configuration: configuration, intake: intake, store: store, tokens: AccessTokens(store: store, clock: clock), detection: detection,
            packs: packs, review: review,
            users: configuration.passwordCost.map { UserAccounts(store: store, clock: clock, cost: $0) },
            ruleEditor: RuleEditor(packs: packs, events: store, audit: store, clock: clock),
            incidents: IncidentService(store: store, review: review, packs: packs, clock: clock),
            investigations: investigations,
            links: links, banks: banks, lookups: lookups, derived: derived,
            bulk: BulkActions(store: store, review: review, intake: intake, investigations: investigations, links: links, clock: clock,
                              limits: configuration.bulkLimits),
            quality: QualityService(store: store, clock: clock, packs: packs))
    }

    /// Throws when the server should not receive traffic.
    @Sendable public func readiness() async throws {
        try await store.ping()
    }

    /// The work `serve` runs beside the HTTP server: the log's consumers (entity graph, search,
    /// detection, case builder, classification), the review clocks, the outbox, the incident clocks
    /// (alert series and evaluation, pages, update reminders), derived tables, bulk jobs, WAL
    /// checkpoints, pack reloads and the operations metrics.
    ///
    /// Work that must run on one node at a time runs under a lease (``LeasedService``): on SQLite
    /// the process holds every lease; on PostgreSQL the first node to ask runs it and another takes
    /// it over when that node stops renewing. Pack reloads and the operations metrics run on every
    /// node (each serves its own pack and its own `/metrics`).
    public func backgroundServices(node: String = LeasedService<ContinuousClock>.nodeName()) -> [any Service] {
        let logger = configuration.logger
        let metrics = DocumentedMetricsFactory(registry: configuration.registry)
        let packs = self.packs
        let detection = self.detection
        let store = self.store
        let clock = self.clock
        // Consumers of the log wait for intake's commits through its tail, unless other nodes commit too.
        let tail = store.isShared ? nil : intake.tail
        func leased(_ name: String, _ work: any Service) -> any Service {
            LeasedService(name, work: work, store: store, owner: node, logger: logger)
        }
        var services: [any Service] = [
            leased("entity_graph", EntityIndexer(store: store, tail: tail, logger: logger)),
            leased("search", SearchIndexer(store: store, fields: { packs.pack.searchFields }, tail: tail, logger: logger)),
            leased("detection", detection),
            PackWatcher(manager: packs),
            leased("derived_tables", DerivedTableScheduler(tables: derived, logger: logger)),
            leased("case_builder", CaseBuilder(review: review, events: store, logger: logger)),
            leased("review_timers", ReviewTimers(review: review, logger: logger, metrics: metrics)),
            leased("classification", ClassificationStage(jobs: store, classifiers: { packs.classifiers }, clock: clock,
                                                         budget: { detection.countLateHit(rule: $0, version: $1, at: $2) }, logger: logger, metrics: metrics)),
            leased("outbox", OutboxDeliverer(store: store, settings: { packs.pack.review.webhook }, channels: { packs.pack.incidents.deliveries }, clock: clock,
                                             logger: logger, metrics: metrics)),
            leased("incident_clock", IncidentClock(incidents: incidents, logger: logger)),
            leased("bulk_jobs", BulkRunner(actions: bulk, logger: logger)),
            OperationsMetrics(store: store, packs: packs, clock: clock, logger: logger, metrics: metrics, board: queueBoard),
        ]
        if store.isShared {
            services.append(PeriodicService.lookupRefresher(banks: banks, logger: logger))
        } else {
            services.append(PeriodicService.checkpointer(store: store, logger: logger))
        }
        return services
    }
}
