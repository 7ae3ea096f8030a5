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

/// The HTTP API over built components.
public enum WardenApplication {
    /// The router with every route, and the table that documents them.
    public static func buildRouter(_ components: WardenComponents) -> (Router<WardenRequestContext>, RouteTable) {
        let settings = components.configuration.server
        let router = Router(context: WardenRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: Authenticator(tokens: components.tokens, users: components.users))
        let routes = RouteTable(router: router)
        SystemController(readiness: components.readiness, registry: components.registry, packs: components.packs).addRoutes(to: routes)
        EventsController(intake: components.intake, store: components.store, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        ReportsController(intake: components.intake, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        EntitiesController(store: components.store, detections: components.store, clock: components.clock).addRoutes(to: routes)
        DetectionController(intake: components.intake, pipeline: components.detection, detections: components.store,
                            clock: components.clock, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        PolicyPackController(manager: components.packs, history: components.store).addRoutes(to: routes)
        let packs = components.packs
        ModerationController(registry: { packs.classifiers }, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        let reviewAPI = ReviewController(review: components.review, maxBodyBytes: settings.maxBodyBytes)
        reviewAPI.addRoutes(to: routes)
        IncidentsController(incidents: components.incidents, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        InvestigationsController(investigations: components.investigations, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        LinkAnalysisController(links: components.links, store: components.store).addRoutes(to: routes)
        HashBanksController(banks: components.banks, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        BulkController(bulk: components.bulk, store: components.store, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        DerivedTablesController(derived: components.derived, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        QualityController(quality: components.quality, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        CalibrationController(quality: components.quality, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        ArticlesController(packs: packs, store: components.store, clock: components.clock).addRoutes(to: routes)
        let search = SearchController(store: components.store, fields: { packs.pack.searchFields })
        search.addRoutes(to: routes)
        MCPController(components: components, search: search, review: reviewAPI,
                      incidents: IncidentsController(incidents: components.incidents, maxBodyBytes: settings.maxBodyBytes),
                      entities: EntitiesController(store: components.store, detections: components.store, clock: components.clock),
                      maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        SessionsController(users: components.users, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: routes)
        ConsoleController(components: components, api: reviewAPI).addRoutes(to: router)
        routes.refuseOtherMethods()
        return (router, routes)
    }

    /// The application: the HTTP server plus `services` (started first, stopped last).
    public static func build(
        _ components: WardenComponents, services: [any Service] = [], logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let settings = components.configuration.server
        let (router, _) = buildRouter(components)
        return Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "warden"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
            logger: logger
        )
    }
}
