import Foundation
import Hummingbird
import Prometheus
import WardenCore
import WardenEngine

/// Health, readiness, metrics, the OpenAPI document and the taxonomy.
struct SystemController {
    let readiness: @Sendable () async throws -> Void
    let registry: PrometheusCollectorRegistry
    let packs: PackManager

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/healthz", scope: nil) { _, _ in StatusResponse(status: "ok") }
        routes.add(.get, "/readyz", scope: nil, ready)
        routes.add(.get, "/metrics", scope: nil) { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        routes.add(.get, "/openapi.json", scope: nil) { _, _ -> Response in .json(OpenAPIDocument.document(for: packs.pack)) }
        routes.add(.get, "/v1/taxonomy", scope: .read, taxonomy)
    }

    @Sendable func ready(_ request: Request, _ context: WardenRequestContext) async throws -> StatusResponse {
        do {
            try await readiness()
            return StatusResponse(status: "ready")
        } catch {
            context.logger.error("readiness check failed", metadata: ["error": "\(error)"])
            throw Problem(.serviceUnavailable, "not-ready", title: "Not ready", detail: "the store does not answer")
        }
    }

    @Sendable func taxonomy(_ request: Request, _ context: WardenRequestContext) async throws -> TaxonomyResponse {
        let pack = packs.pack
        return TaxonomyResponse(pack: pack.name, version: pack.version, taxonomy: pack.taxonomy)
    }
}
