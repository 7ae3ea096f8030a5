import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import WardenCore
import WardenEngine
import WardenHTTP
import WardenStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Warden server on a data directory.",
        discussion: """
            The first start creates the data directory and an admin API token, printed once. Set \
            WARDEN_BOOTSTRAP_TOKEN to choose that token instead (for automation). Stops gracefully on SIGTERM or SIGINT.
            """
    )

    @OptionGroup var data: DataDirOption
    @OptionGroup var pack: PackOption
    @Option(help: "Interface to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free port).") var port = 8080
    @Flag(help: "Stream simulated traffic (with abuse campaigns) into this instance.") var demo = false
    @Option(help: "Normal events per second for --demo.") var demoRate: Double = 20
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "warden")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let policyPack = try pack.load()
        let opened = try OpenedDataDir(path: data.dataDir)

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let tokens = AccessTokens(store: opened.store)
        let bootstrapSecret = ProcessInfo.processInfo.environment["WARDEN_BOOTSTRAP_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let newSecret = try await tokens.bootstrap(bootstrapSecret: bootstrapSecret)
        let intake = Intake(store: opened.store, schema: policyPack.eventSchema)
        let store = opened.store
        let classifiers = await ClassifierRegistry.build(policyPack.classifiers, packDirectory: policyPack.directory, models: store)
        for (name, entry) in classifiers.entries.sorted(by: { $0.key < $1.key }) {
            if case .unavailable(let reason) = entry { logger.warning("classifier \(name) is unavailable: \(reason)") }
        }
        let detection = DetectionPipeline(rules: policyPack.rules, events: store, tail: intake.tail, detections: store,
                                          scorers: classifiers.scorers, served: classifiers.served, logger: logger)
        let packs = PackManager(pack: policyPack, pipeline: detection, history: store, logger: logger, classifiers: classifiers) { pack in
            await ClassifierRegistry.build(pack.classifiers, packDirectory: pack.directory, models: store)
        }
        try await packs.recordStart()
        var components = WardenComponents(intake: intake, store: store, tokens: tokens, pack: policyPack, registry: registry,
                                          detection: detection, detections: store, packs: packs, history: store, review: ReviewService(store: store, packs: packs),
                                          readiness: { try await store.ping() })
        components.users = UserAccounts(store: store)
        let review = components.review
        var settings = ServerSettings()
        settings.host = host
        settings.port = port
        var services: [any Service] = [EntityIndexer(store: store, activity: intake.activity, logger: logger), Checkpointer(store: store, logger: logger), detection,
                                       PackWatcher(manager: packs), CaseBuilder(review: review, events: store, logger: logger),
                                       ReviewTimers(review: review, logger: logger),
                                       ClassificationStage(jobs: store, classifiers: { packs.classifiers },
                                                           budget: { detection.countLateHit(rule: $0, version: $1, at: $2) }, logger: logger),
                                       OutboxDeliverer(store: store, settings: { packs.pack.review.webhook }, logger: logger)]
        if demo {
            services.append(DemoTraffic(intake: intake, rate: demoRate, seed: UInt64.random(in: 1...UInt64(1 << 40)), logger: logger))
        }
        let dataDir = data.dataDir
        let isDemo = demo
        let host = host
        let app = WardenApplication.build(components, settings: settings, services: services, logger: logger) { port in
            var lines = ["", "Warden is running: http://\(host):\(port)/",
                         "  API description: http://\(host):\(port)/openapi.json",
                         "  data dir: \(dataDir)   policy pack: \(policyPack.name) (\(policyPack.version))"]
            if let newSecret {
                lines += ["  admin API token (shown once, stored hashed): \(newSecret)",
                          "  try: curl -H 'Authorization: Bearer \(newSecret)' http://\(host):\(port)/v1/events?limit=5"]
            }
            if isDemo { lines.append("  demo traffic: streaming simulated events with abuse campaigns") }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n\n").utf8))
        }
        try await app.runService()
        opened.lock?.release()
    }
}
