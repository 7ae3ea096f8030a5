public import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle
public import WardenEngine
public import WardenStore
public import WardenCore

/// Where and how the HTTP server listens.
public struct ServerSettings: Sendable {
    /// Interface to bind.
    public var host = "127.0.0.1"
    /// Port to bind (0 picks a free one).
    public var port = 8080
    /// Largest accepted request body.
    public var maxBodyBytes = 8 << 20

    /// Default settings.
    public init() {}
}

/// What the HTTP layer serves: the engine's components, built by the caller.
public struct WardenComponents: Sendable {
    /// Intake.
    public var intake: Intake
    /// The event log.
    public var store: any EventStore
    /// API tokens.
    public var tokens: AccessTokens
    /// The active policy pack.
    public var pack: PolicyPack
    /// Where `/metrics` reads from.
    public var registry: PrometheusCollectorRegistry
    /// Throws when the server should not receive traffic.
    public var readiness: @Sendable () async throws -> Void
    /// Detection.
    public var detection: DetectionPipeline
    /// Detection's output.
    public var detections: any DetectionStore
    /// The clock.
    public var clock: any WallClock
    /// The policy pack in force and its changes.
    public var packs: PackManager
    /// Rule versions and pack changes.
    public var history: any RuleHistoryStore
    /// Review operations.
    public var review: ReviewService
    /// People and sessions (nil: only API tokens authenticate).
    public var users: UserAccounts?

    /// Collects the components.
    public init(intake: Intake, store: any EventStore, tokens: AccessTokens, pack: PolicyPack,
                registry: PrometheusCollectorRegistry, detection: DetectionPipeline, detections: any DetectionStore,
                packs: PackManager, history: any RuleHistoryStore,
                review: ReviewService, clock: any WallClock = SystemWallClock(), readiness: @escaping @Sendable () async throws -> Void) {
        self.review = review
        self.packs = packs
        self.history = history
        self.intake = intake
        self.store = store
        self.detection = detection
        self.detections = detections
        self.clock = clock
        self.tokens = tokens
        self.pack = pack
        self.registry = registry
        self.readiness = readiness
    }
}

/// The composition root of the HTTP API.
public enum WardenApplication {
    /// The router with every route, and the table that documents them.
    public static func buildRouter(_ components: WardenComponents, settings: ServerSettings) -> (Router<WardenRequestContext>, RouteTable) {
        let router = Router(context: WardenRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: Authenticator(tokens: components.tokens, users: components.users))
        let routes = RouteTable(router: router)
        SystemController(readiness: components.readiness, registry: components.registry, pack: components.pack).addRoutes(to: routes)
        EventsController(intake: components.intake, store: components.store, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        ReportsController(intake: components.intake, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        EntitiesController(store: components.store, detections: components.detections, clock: components.clock).addRoutes(to: routes)
        DetectionController(intake: components.intake, pipeline: components.detection, detections: components.detections,
                            clock: components.clock, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        PolicyPackController(manager: components.packs, history: components.history).addRoutes(to: routes)
        let packs = components.packs
        ModerationController(registry: { packs.classifiers }, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        ReviewController(review: components.review, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        SessionsController(users: components.users, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        return (router, routes)
    }

    /// The application: the HTTP server plus `services` (started first, stopped last).
    public static func build(
        _ components: WardenComponents, settings: ServerSettings, services: [any Service] = [], logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let (router, _) = buildRouter(components, settings: settings)
        return Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "warden"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: logger
        )
    }
}
