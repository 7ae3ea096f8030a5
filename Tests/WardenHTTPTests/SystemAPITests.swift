import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
@testable import WardenHTTP

@Suite struct SystemAPITests {
    @Test func openAPIDocumentsExactlyTheRegisteredRoutesAndTheirScopes() async throws {
        let harness = try await Harness.make()
        let (_, table) = WardenApplication.buildRouter(harness.components)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: [String: String?] = [:]
        for (path, operations) in paths {
            for (method, operation) in operations {
                let scope = (operation as? [String: Any])?["x-warden-scope"]
                documented.updateValue(scope as? String, forKey: "\(method.uppercased()) \(path)")
            }
        }
        var registered: [String: String?] = [:]
        for route in table.routes { registered.updateValue(route.scope?.rawValue, forKey: "\(route.method) \(route.path)") }
        #expect(registered.count == table.routes.count)
        #expect(Set(documented.keys) == Set(registered.keys))
        for (route, scope) in registered { #expect(documented[route] == scope, "\(route)") }
    }

    /// Text holding U+0000 is refused before it reaches a store (SQLite's reads stop at one;
    /// PostgreSQL's text cannot hold one): a body naming the field (422), a query parameter (400),
    /// nothing changed. The document says so on every free text a request body or query takes.
    @Test func textHoldingNULIsRefusedAndTheDocumentSaysSo() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let refused = try await client.post("/v1/incidents", token: harness.admin, body: #"{"title":"a\u0000b","severity":"SEV3"}"#)
            #expect(refused.status == .unprocessableContent && refused.json["field"] as? String == "title")
            #expect((refused.json["detail"] as? String)?.contains("NUL") == true)
            let nested = try await client.post("/v1/moderations", token: harness.admin, body: #"{"input":["ok","x\u0000"]}"#)
            #expect(nested.status == .unprocessableContent && nested.json["field"] as? String == "input[1]")
            let query = try await client.get("/v1/quality/certifications?queue=a%00b", token: harness.admin)
            #expect(query.status == .badRequest && query.json["parameter"] as? String == "queue")
            #expect(try await harness.store.incidents(status: nil, openOnly: false, before: nil, limit: 10).isEmpty)
        }
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var unguarded: [String] = []
        func walk(_ node: Any, at place: String, seen: inout Set<String>) {
            if let object = node as? [String: Any] {
                if let reference = object["$ref"] as? String, reference.hasPrefix("#/components/schemas/") {
                    let name = String(reference.dropFirst("#/components/schemas/".count))
                    if seen.insert(name).inserted, let schema = schemas[name] { walk(schema, at: name, seen: &seen) }
                    return
                }
                let type = object["type"]
                let isString = type as? String == "string" || (type as? [String])?.contains("string") == true
                if isString, !["enum", "const", "format", "x-warden-pack"].contains(where: { object[$0] != nil }) {
                    // No pattern, or one that some text holding U+0000 matches.
                    let pattern = object["pattern"] as? String
                    let admitsNUL = pattern.map { pattern in
                        guard let regex = try? NSRegularExpression(pattern: pattern) else { return true }
                        return ["\u{0}", "a\u{0}", "\u{0}a", "a\u{0}b", "user:a\u{0}b", "x\u{0} y"].contains { sample in
                            regex.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil
                        }
                    } ?? true
                    if admitsNUL { unguarded.append(place) }
                }
                for (key, value) in object where !["examples", "example", "default"].contains(key) { walk(value, at: place + "." + key, seen: &seen) }
            } else if let array = node as? [Any] {
                for item in array { walk(item, at: place, seen: &seen) }
            }
        }
        var seen = Set<String>()
        for (path, operations) in paths {
            for (method, operation) in operations {
                // Intake has its own rules for events' text (docs/intake.md); MCP answers in JSON-RPC's terms.
                guard let operation = operation as? [String: Any], !["/v1/events", "/v1/evaluate", "/v1/reports", "/mcp"].contains(path) else { continue }
                if let body = operation["requestBody"] { walk(body, at: "\(method) \(path) body", seen: &seen) }
                for parameter in operation["parameters"] as? [[String: Any]] ?? [] where parameter["in"] as? String == "query" {
                    walk(parameter["schema"] as Any, at: "\(method) \(path) ?\(parameter["name"] ?? "")", seen: &seen)
                }
            }
        }
        #expect(unguarded.isEmpty, "request text without the no-NUL pattern: \(unguarded.sorted().prefix(10))")
    }

    /// The served document is the spec file with the pack's entity types, categories and queues
    /// filled in, so a client (and schemathesis) knows exactly what this server takes.
    @Test func theServedDocumentListsThePacksValues() async throws {
        let harness = try await Harness.make()
        let pack = harness.components.packs.pack
        try await harness.test { client in
            let served = try await client.get("/openapi.json", token: nil)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: served.body)) as? [String: Any])
            let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
            #expect(schemas["EntityType"]?["enum"] as? [String] == pack.eventSchema.entityTypes.names)
            #expect(schemas["Category"]?["enum"] as? [String] == pack.taxonomy.categories.map(\.id))
            #expect(schemas["Queue"]?["enum"] as? [String] == pack.review.configuration.queueOrder)
            #expect(schemas["Answer"]?["enum"] as? [String] == ["none"] + pack.taxonomy.categoryIDs.sorted())
            #expect((schemas["EntityType"]?["enum"] as? [String])?.contains("wallet") == true)
        }
    }

    /// A path the API has, asked with a method it does not take: 405 naming the methods it does.
    @Test func undeclaredMethodsAreRefusedWithAllow() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let refused = try await client.execute(uri: "/v1/cases/7/claim", method: .get, headers: [.authorization: "Bearer \(harness.admin)"])
            #expect(refused.status == .methodNotAllowed)
            #expect(refused.headers[.allow] == "POST")
            let query = try await client.execute(uri: "/v1/events", method: HTTPRequest.Method("QUERY")!)
            #expect(query.status == .methodNotAllowed)
            #expect(query.headers[.allow] == "POST, GET, HEAD")
            #expect(try await client.execute(uri: "/healthz", method: .head).status == .ok)
            #expect(try await client.execute(uri: "/v1/no-such-thing", method: .delete).status == .notFound)
        }
    }

    @Test func everyProtectedRouteRefusesMissingAndInsufficientTokens() async throws {
        let harness = try await Harness.make()
        let routes = WardenApplication.buildRouter(harness.components).1.routes
        try await harness.test { client in
            for route in routes {
                let path = route.path.replacingOccurrences(of: "{type}", with: "user").replacingOccurrences(of: "{id}", with: "u1")
                let method = HTTPRequest.Method(rawValue: route.method)!
                let anonymous = try await client.execute(uri: path, method: method)
                guard let scope = route.scope else {
                    // Public routes answer anyone, except /v1/me, which says who is calling (nobody: 401).
                    #expect((anonymous.status == .unauthorized) == (route.path == "/v1/me"), "\(route.path)")
                    continue
                }
                #expect(anonymous.status == .unauthorized, "\(route.method) \(route.path)")
                #expect(anonymous.headers[.wwwAuthenticate] != nil)
                let wrong = scope == .read ? harness.writer : harness.reader
                let refused = try await client.execute(uri: path, method: method, headers: [.authorization: "Bearer \(wrong)"])
                #expect(refused.status == .forbidden, "\(route.method) \(route.path)")
                let bogus = try await client.execute(uri: path, method: method, headers: [.authorization: "Bearer wdn_not_a_token"])
                #expect(bogus.status == .unauthorized)
            }
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            #expect(try await client.get("/healthz", token: nil).status == .ok)
            #expect(try await client.get("/readyz", token: nil).status == .ok)
            _ = try await client.post("/v1/events", token: harness.writer, body: eventJSON("m1"))
            _ = try await client.post("/v1/events", token: harness.writer, body: #"{"id":"m2"}"#)
            let metrics = String(buffer: try await client.get("/metrics", token: nil).body)
            #expect(metrics.contains(#"warden_intake_events_total{status="accepted"} 1"#))
            #expect(metrics.contains(#"warden_intake_events_total{status="rejected"} 1"#))
            #expect(metrics.contains("warden_intake_commit_seconds"))
            let taxonomy = try await client.get("/v1/taxonomy", token: harness.reader)
            #expect(taxonomy.json["pack"] as? String == "example")
            let missing = try await client.get("/v1/nothing-here", token: nil)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
        }
    }
}
