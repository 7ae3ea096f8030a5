import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Synchronization
import Testing
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenStore
@testable import WardenHTTP

/// A Warden API over a fresh store, the example policy pack and a fixed clock. The store is SQLite;
/// with `WARDEN_TEST_HARNESS_STORE=postgres` and `WARDEN_TEST_POSTGRES_URL` naming a server, it is
/// a new PostgreSQL database on that server instead, so every API test here runs on either store
/// (scripts/test runs this target a second time that way). Tests that reach into SQLite itself
/// (its triggers, its investigator) say so with ``onSQLite``.
struct Harness {
    /// The PostgreSQL server the harness puts its stores on, if the run asks for PostgreSQL.
    static let postgresServer: PostgresConfiguration? = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["WARDEN_TEST_HARNESS_STORE"] == "postgres", let url = environment["WARDEN_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return try? PostgresConfiguration(url: url)
    }()


    static let keptOpen = Mutex<[PostgresStore]>([])

    /// True when the tests run on SQLite (the default).
    static var onSQLite: Bool { postgresServer == nil }

    struct FixedClock: WallClock {
        func nowMillis() -> Int64 { 1_795_428_000_000 }
    }

    static let packDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/example").path

    let store: any WardenStorage
    /// The store as SQLite, for tests of what only SQLite has.
    var sqlite: SQLiteStore? { store as? SQLiteStore }
    let components: WardenComponents
    var detection: DetectionPipeline { components.detection }
    let registry: PrometheusCollectorRegistry
    let admin: String
    let writer: String
    let reader: String

    static func make(maxBodyBytes: Int = 8 << 20, packDirectory: String = packDirectory, clock: any WallClock = FixedClock(),
                     bulkLimits: BulkLimits = BulkLimits()) async throws -> Harness {
        let store: any WardenStorage
        if let server = postgresServer {
            var configuration = server
            configuration.database = "warden_http_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
            configuration.maximumConnections = 4
            try await PostgresStore.createDatabase(configuration.database, server: server)
            var logger = Logger(label: "warden.test.postgres")
            logger.logLevel = .warning
            let opened = try await PostgresStore(configuration: configuration, logger: logger)
            // Kept open to the end of the run: work a test started (an HTTP handler, a service's
            // task) may still be reading when the test returns, and the pool is not closed under it.
            keptOpen.withLock { $0.append(opened) }
            store = opened
        } else {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-http-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            store = try SQLiteStore(path: directory.appendingPathComponent("warden.sqlite").path)
        }
        var configuration = WardenConfiguration(store: store, pack: try PolicyPack.load(from: packDirectory), logger: Logger(label: "test"))
        configuration.clock = clock
        configuration.passwordCost = 4
        configuration.buildsClassifiers = false
        configuration.server.maxBodyBytes = maxBodyBytes
        configuration.bulkLimits = bulkLimits
        let components = await WardenComponents.build(configuration)
        let tokens = components.tokens
        let admin = try await tokens.create(name: "admin", scopes: [.admin]).1
        let writer = try await tokens.create(name: "writer", scopes: [.eventsWrite]).1
        let reader = try await tokens.create(name: "reader", scopes: [.read]).1
        return Harness(store: store, components: components, registry: configuration.registry, admin: admin, writer: writer, reader: reader)
    }

    func test(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let (router, _) = WardenApplication.buildRouter(components)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = Application(router: router, logger: logger)
        try await app.test(.router, body)
    }
}

extension TestClientProtocol {
    @discardableResult
    func post(_ path: String, token: String?, contentType: String? = "application/json", body: String) async throws -> TestResponse {
        try await post(path, token: token, contentType: contentType, bytes: Array(body.utf8))
    }

    @discardableResult
    func post(_ path: String, token: String?, contentType: String? = "application/json", bytes: [UInt8]) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: bytes))
    }

    func get(_ path: String, token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await execute(uri: path, method: .get, headers: headers)
    }
}

extension TestResponse {
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    var results: [[String: Any]] {
        json["results"] as? [[String: Any]] ?? []
    }
}

func eventJSON(_ id: String, text: String = "hi", actor: String = "u1") -> String {
    #"{"id":"\#(id)","type":"message.sent","occurred_at":"2026-11-23T10:00:00Z","actor":{"type":"user","id":"\#(actor)"},"entities":{"ip":"203.0.113.7","device":"d9"},"data":{"text":"\#(text)","recipient":"u2"}}"#
}
