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
import WardenReview

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Warden server on a data directory, or as one of several nodes on PostgreSQL.",
        discussion: """
            The first start creates the data directory and an admin API token, printed once. Set \
            WARDEN_BOOTSTRAP_TOKEN to choose that token instead (for automation). Stops gracefully on SIGTERM or SIGINT.

            With --database postgres://… (or WARDEN_DATABASE_URL) the store is that PostgreSQL database, \
            migrated on start; any number of nodes may serve it at once. Each takes intake, API and console \
            traffic; background work (the log's consumers, clocks, the outbox) runs on one node at a time \
            under a lease another node takes over when its holder dies (docs/scaling.md).
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
        let opened = try await OpenedDataDir(data, logLevel: max(logger.logLevel, .notice))
        let store = opened.store
        let storeLine = store.isShared ? "store: \(opened.description) (this node shares it)" : "data dir: \(data.dataDir)"

        var configuration = WardenConfiguration(store: store, pack: policyPack, logger: logger)
        configuration.server.host = host
        configuration.server.port = port
        MetricsSystem.bootstrap(DocumentedMetricsFactory(registry: configuration.registry))
        let components = await WardenComponents.build(configuration)
        let bootstrapSecret = ProcessInfo.processInfo.environment["WARDEN_BOOTSTRAP_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let newSecret = try await components.tokens.bootstrap(bootstrapSecret: bootstrapSecret)
        try await components.packs.recordStart()
        let firstAdminLink = try await components.users?.firstAdminLink()
        var people: [(name: String, role: Role, link: String)] = []
        if demo, let users = components.users {
            let vendorQueues = policyPack.review.configuration.queueOrder.filter {
                policyPack.review.configuration.queues[$0]?.teams.contains("vendor") ?? false
            }
            people = try await users.demoPeople(queues: vendorQueues.isEmpty ? Array(policyPack.review.configuration.queueOrder.prefix(1)) : vendorQueues)
        }
        let demoPeople = people
        var services = components.backgroundServices()
        if demo {
            services.append(DemoTraffic(intake: components.intake, rate: demoRate, seed: UInt64.random(in: 1...UInt64(1 << 40)), logger: logger))
        }
        let isDemo = demo
        let host = host
        let app = WardenApplication.build(components, services: services, logger: logger) { port in
            let base = "http://\(host):\(port)"
            var lines = ["", "Warden is running: \(base)/   (the console: sign in there)",
                         "  API description: \(base)/openapi.json",
                         "  \(storeLine)   policy pack: \(policyPack.name) (\(policyPack.version))"]
            if let newSecret {
                lines += ["  admin API token (shown once, stored hashed): \(newSecret)",
                          "  try: curl -H 'Authorization: Bearer \(newSecret)' http://\(host):\(port)/v1/events?limit=5"]
            }
            if let firstAdminLink {
                lines += ["  first admin: open \(base)/signin/\(firstAdminLink) to sign in once as admin and choose a password",
                          "    (one use, valid 24 h; later: warden users add / warden users link)"]
            }
            if !demoPeople.isEmpty {
                lines.append("  demo people (one-time sign-in links, valid 24 h; new links at every --demo start):")
                for person in demoPeople {
                    lines.append("    \(person.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(person.role.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \(base)/signin/\(person.link)")
                }
            }
            if isDemo { lines.append("  demo traffic: streaming simulated events with abuse campaigns") }
            FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n\n").utf8))
        }
        try await app.runService()
        opened.close()
    }
}
