import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenStore
@testable import WardenHTTP

/// A Warden API over a fresh SQLite store, the example policy pack and a fixed clock.
struct Harness {
    struct FixedClock: WallClock {
        func nowMillis() -> Int64 { 1_795_428_000_000 }
    }

    static let packDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/example").path

    let store: SQLiteStore
    let components: WardenComponents
    var detection: DetectionPipeline { components.detection }
    let registry: PrometheusCollectorRegistry
    let admin: String
    let writer: String
    let reader: String

    static func make(maxBodyBytes: Int = 8 << 20, packDirectory: String = packDirectory, clock: any WallClock = FixedClock(),
                     bulkLimits: BulkLimits = BulkLimits()) async throws -> Harness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("warden.sqlite").path)
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
