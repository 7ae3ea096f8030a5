import Foundation
import HTTPTypes
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenReview
import WardenStore

/// `POST /mcp`: the investigation tools for AI assistants, as a Model Context Protocol server over
/// streamable HTTP (JSON-RPC 2.0 in a POST, one JSON answer per request). It speaks the revisions
/// reached through the `initialize` handshake (2025-03-26, 2025-06-18, 2025-11-25) without sessions:
/// each POST is answered on its own, authenticated by its bearer token. A client of the 2026-07-28
/// revision asks `server/discover` first; the answer "method not found" makes it fall back to the
/// handshake, as that revision's clients do.
///
/// Every tool is read-only, checks the same scope as the API route it mirrors, answers as that
/// route does (personal data masked for roles that see it masked), and every call is audited
/// (`mcp.call`, with its arguments and outcome) besides what the route itself audits (`query.run`,
/// `case.read`).
struct MCPController {
    let components: WardenComponents
    let search: SearchController
    let review: ReviewController
    let incidents: IncidentsController
    let entities: EntitiesController
    let maxBodyBytes: Int

    static let protocolVersions = ["2025-03-26", "2025-06-18", "2025-11-25"]
    static let latest = "2025-11-25"
    static let protocolVersionHeader = HTTPField.Name("MCP-Protocol-Version")!

    struct Tool {
        var name: String
        var title: String
        var description: String
        var scope: Scope
        var schema: JSONValue
        /// The tool's answer as JSON (what the API route it mirrors answers).
        var run: @Sendable ([String: JSONValue], WardenRequestContext) async throws -> Data
    }

    struct ToolError: Error { var message: String }

    func addRoutes(to routes: RouteTable) {
        routes.add(.post, "/mcp", scope: .read) { request, context in
            try await handle(request, context)
        }
    }

    func handle(_ request: Request, _ context: WardenRequestContext) async throws -> Response {
        if let version = request.headers[Self.protocolVersionHeader], !Self.protocolVersions.contains(version) {
            return Self.rpcError(.null, code: -32600, "unsupported MCP-Protocol-Version \(version.prefix(40)); this server speaks \(Self.protocolVersions.joined(separator: ", "))",
                                 status: .badRequest)
        }
        if let origin = request.headers[.origin], let authority = request.head.authority ?? request.headers[HTTPField.Name("Host")!],
           URL(string: origin)?.host.map({ !authority.hasPrefix($0) }) ?? true {
            // Browsers send Origin; a page elsewhere must not drive a local server (DNS rebinding).
            throw Problem(.forbidden, "forbidden-origin", title: "Forbidden origin", detail: "requests from \(origin.prefix(100)) are not accepted")
        }
        if let mediaType = request.headers[.contentType],
           mediaType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() != "application/json" {
            throw Problem(.unsupportedMediaType, "unsupported-media-type", title: "Unsupported media type",
                          detail: "send a JSON-RPC message as Content-Type application/json; got \(mediaType.prefix(100))")
        }
        let bytes = try await RequestInput.collect(request, limit: maxBodyBytes)
        guard let parsed = JSONValue.parse(Array(buffer: bytes)) else {
            return Self.rpcError(.null, code: -32700, "the body is not JSON: send one JSON-RPC 2.0 message", status: .badRequest)
        }
        guard case .object(let message) = parsed else {
            return Self.rpcError(.null, code: -32600, "send one JSON-RPC 2.0 message as a JSON object (batches are not part of this protocol revision)", status: .badRequest)
        }
        for member in ["result", "error"] {
            if let value = message[member], !value.isObject {
                return Self.rpcError(.null, code: -32600, "\(member) is an object", status: .badRequest)
            }
        }
        if case .some(.null) = message["id"] {
            return Self.rpcError(.null, code: -32600, "id is a string or a whole number, never null (leave it out for a notification)", status: .badRequest)
        }
        let id = message["id"] ?? .null
        switch id {
        case .null, .string: break
        case .number(let number) where number.rounded() == number: break
        default: return Self.rpcError(.null, code: -32600, "id is a string or a whole number", status: .badRequest)
        }
        guard message["jsonrpc"] == .string("2.0") else { return Self.rpcError(id, code: -32600, "jsonrpc must be \"2.0\"", status: .badRequest) }
        guard case .string(let method)? = message["method"] else {
            // A response from the client: nothing to act on.
            if message["method"] == nil, case .object? = message["result"] ?? message["error"] { return Response(status: .accepted) }
            return Self.rpcError(id, code: -32600, "a request names its method (a string)", status: .badRequest)
        }
        guard !method.isEmpty else { return Self.rpcError(id, code: -32600, "a request names its method", status: .badRequest) }
        if let given = message["params"] {
            guard case .object = given else { return Self.rpcError(id, code: -32602, "params is an object", status: .badRequest) }
        }
        // Notifications (notifications/initialized, cancelled…) are acknowledged.
        if id == .null { return Response(status: .accepted) }
        let params: [String: JSONValue] = if case .object(let members)? = message["params"] { members } else { [:] }
        switch method {
        case "initialize":
            let asked = if case .string(let version)? = params["protocolVersion"] { version } else { Self.latest }
            let instructions = """
                Warden is a trust & safety operations platform. These tools read its live store: full-text search over events \
                and cases, entities with their events and links, link expansion, read-only SQL over documented views \
                (the views tool lists them), and a case's or incident's full record. Everything is read-only and audited \
                under the token you connect with.
                """
            return Self.result(id, .object([
                "protocolVersion": .string(Self.protocolVersions.contains(asked) ? asked : Self.latest),
                "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
                "serverInfo": .object(["name": .string("warden"), "title": .string("Warden investigations"), "version": .string(components.packs.pack.version)]),
                "instructions": .string(instructions),
            ]))
        case "ping":
            return Self.result(id, .object([:]))
        case "tools/list":
            let granted = context.scopes ?? []
            return Self.result(id, .object(["tools": .array(tools.filter { $0.scope.isSatisfied(by: granted) }.map { tool in
                .object([
                    "name": .string(tool.name), "title": .string(tool.title), "description": .string(tool.description), "inputSchema": tool.schema,
                    "annotations": .object(["readOnlyHint": .bool(true), "destructiveHint": .bool(false), "idempotentHint": .bool(true), "openWorldHint": .bool(false)]),
                ])
            })]))
        case "tools/call":
            guard case .string(let name)? = params["name"] else { return Self.rpcError(id, code: -32602, "tools/call names its tool in params.name") }
            guard let tool = tools.first(where: { $0.name == name }) else {
                return Self.rpcError(id, code: -32602, "there is no tool \(name.prefix(60)); the tools are \(tools.map(\.name).joined(separator: ", "))")
            }
            let arguments: [String: JSONValue] = if case .object(let members)? = params["arguments"] { members } else { [:] }
            return await call(tool, arguments, id: id, context)
        default:
            return Self.rpcError(id, code: -32601, "method \(method.prefix(60)) is not offered: this server has tools (tools/list, tools/call)")
        }
    }

    /// Runs a tool: its answer as text and as structured content, or the error as a tool error (so
    /// the assistant reads it and can correct its call). Audited either way.
    func call(_ tool: Tool, _ arguments: [String: JSONValue], id: JSONValue, _ context: WardenRequestContext) async -> Response {
        var answer: Data?
        var failure: String?
        do {
            guard tool.scope.isSatisfied(by: context.scopes ?? []) else {
                throw ToolError(message: "the \(tool.name) tool needs the \(tool.scope.rawValue) scope")
            }
            answer = try await tool.run(arguments, context)
        } catch {
            failure = Self.describe(error)
        }
        var argumentWriter = JSONWriter()
        Self.write(.object(arguments), into: &argumentWriter)
        let argumentText = String(decoding: argumentWriter.bytes, as: UTF8.self)
        let detail = JSONWriter.object {
            $0.field("arguments", String(argumentText.prefix(2_000)))
            $0.field("outcome", failure == nil ? "ok" : "error")
            if let failure { $0.field("error", String(failure.prefix(500))) }
        }
        try? await components.store.audit(actor: context.actor, action: "mcp.call", target: "mcp:\(tool.name)", detail: detail, now: components.clock.nowMillis())
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("jsonrpc", "2.0")
        writer.key("id")
        Self.write(id, into: &writer)
        writer.key("result")
        writer.beginObject()
        writer.key("content")
        writer.beginArray()
        writer.beginObject()
        writer.field("type", "text")
        writer.field("text", answer.map { String(decoding: $0, as: UTF8.self) } ?? failure ?? "")
        writer.endObject()
        writer.endArray()
        if let answer, answer.first == UInt8(ascii: "{") {
            writer.key("structuredContent")
            writer.raw(answer)
        }
        writer.key("isError")
        writer.bool(failure != nil)
        writer.endObject()
        writer.endObject()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ToolError: error.message
        case let error as Problem: error.detail
        case let error as QueryError: error.message
        default: "the tool failed: \(error)"
        }
    }

    // MARK: The tools

    var tools: [Tool] {
        func string(_ about: String) -> JSONValue { .object(["type": .string("string"), "description": .string(about)]) }
        func integer(_ minimum: Int, _ maximum: Int, _ about: String) -> JSONValue {
            .object(["type": .string("integer"), "minimum": .number(Double(minimum)), "maximum": .number(Double(maximum)), "description": .string(about)])
        }
        func schema(_ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
            .object(["type": .string("object"), "properties": .object(properties), "required": .array(required.map(JSONValue.string)),
                     "additionalProperties": .bool(false)])
        }
        return [
            Tool(name: "search", title: "Search events and cases",
                 description: "Full-text search over events' text (messages, reports, bios…) and cases (reports, comments, decision rationales), newest first. Every word must occur.",
                 scope: .read,
                 schema: schema(["q": string("the words to find"),
                                 "in": .object(["type": .string("string"), "enum": .array(["all", "events", "cases"].map(JSONValue.string))]),
                                 "type": string("events of this type only"),
                                 "entity": string("type:id, such as user:u1"),
                                 "since": string("a date or RFC 3339 time"),
                                 "until": string("a date or RFC 3339 time"),
                                 "queue": string("cases in this queue only"),
                                 "limit": integer(1, 500, "hits of each kind (50)")], required: ["q"])) { arguments, context in
                let text = try Self.text(arguments, "q", required: true) ?? ""
                let scope = try Self.text(arguments, "in").map { value -> SearchController.Scope in
                    guard let scope = SearchController.Scope(rawValue: value) else { throw ToolError(message: "in is all, events or cases") }
                    return scope
                } ?? .all
                let query = SearchQuery(text: text, type: try Self.text(arguments, "type"), entity: try Self.entity(arguments, "entity"),
                                        since: try Self.time(arguments, "since"), until: try Self.time(arguments, "until"),
                                        queue: try Self.text(arguments, "queue"), limit: try Self.integer(arguments, "limit", 1...500) ?? 50)
                return try context.responseEncoder.encode(try await search.results(query, in: scope, mask: context.masksPersonalData))
            },
            Tool(name: "entity", title: "Look up an entity",
                 description: "An entity (user, ip, device, card, email…) with when it was first seen, its labels, its recent events and the entities linked to it.",
                 scope: .read,
                 schema: schema(["entity": string("type:id, such as user:u1 or ip:203.0.113.7"),
                                 "events": integer(0, 100, "recent events (20)"), "links": integer(0, 200, "linked entities (50)")], required: ["entity"])) { arguments, context in
                guard let ref = try Self.entity(arguments, "entity") else { throw ToolError(message: "entity is required, as type:id") }
                return Data(try await entities.detail(ref, recent: try Self.integer(arguments, "events", 0...100) ?? 20,
                                                      links: try Self.integer(arguments, "links", 0...200) ?? 50))
            },
            Tool(name: "expand", title: "Expand an entity's neighbourhood",
                 description: "The entities within N hops of one over shared IPs, devices, cards, e-mails and domains; super-nodes (shared NAT IPs, webmail domains) are not walked through.",
                 scope: .read,
                 schema: schema(["entity": string("type:id"), "hops": integer(1, 3, "hops (2)"),
                                 "max_degree": integer(1, 1_000, "super-node threshold (50)"), "limit": integer(1, 5_000, "most nodes (300)")], required: ["entity"])) { arguments, context in
                guard let ref = try Self.entity(arguments, "entity") else { throw ToolError(message: "entity is required, as type:id") }
                try await EntityIndexer.catchUpIfClose(components.store)
                guard try await components.store.entity(ref, recentLimit: 0, linkLimit: 0) != nil else { throw ToolError(message: "no event has named \(ref)") }
                let expansion = try await components.links.expand(ref, hops: try Self.integer(arguments, "hops", 1...3) ?? 2,
                                                                  maxDegree: try Self.integer(arguments, "max_degree", 1...1_000) ?? 50,
                                                                  maxNodes: try Self.integer(arguments, "limit", 1...5_000) ?? 300)
                return try context.responseEncoder.encode(ExpansionResponse(expansion, mask: context.masksPersonalData))
            },
            Tool(name: "views", title: "List the SQL views",
                 description: "The views the sql tool reads, with their columns, the SQL functions added (iso, hour, day, ago) and the limits.",
                 scope: .queryRead, schema: schema([:])) { _, context in try context.responseEncoder.encode(ViewsResponse.current) },
            Tool(name: "sql", title: "Run read-only SQL",
                 description: "One read-only SQLite SELECT over the investigation views (events, entities, mentions, links, labels, signals, cases, decisions, actions, reports, statements, and derived_<name> tables). Time and row limits apply; every run is audited.",
                 scope: .queryRead,
                 schema: schema(["sql": string("one SELECT statement"),
                                 "parameters": .object(["type": .string("object"), "description": .string("values for :named parameters")]),
                                 "limit": integer(1, 10_000, "most rows (1000)")], required: ["sql"])) { arguments, context in
                let sql = try Self.text(arguments, "sql", required: true, max: SavedQuery.maximumSQL) ?? ""
                var parameters: [String: QueryValue] = [:]
                let given: [String: JSONValue] = if case .object(let members)? = arguments["parameters"] { members } else { [:] }
                for (name, value) in given {
                    switch value {
                    case .bool(let flag): parameters[name] = .integer(flag ? 1 : 0)
                    case .number(let number): parameters[name] = number.rounded() == number && abs(number) < 9e15 ? .integer(Int64(number)) : .real(number)
                    case .string(let text): parameters[name] = .text(text)
                    case .null: parameters[name] = .null
                    default: throw ToolError(message: "parameters.\(name) is a string, number, boolean or null")
                    }
                }
                let limits = QueryLimits(rows: try Self.integer(arguments, "limit", 1...10_000) ?? 1_000)
                let result = try await components.investigations.run(sql, parameters: parameters, limits: limits, actor: context.actor)
                return try context.responseEncoder.encode(QueryResultResponse(context.masksPersonalData ? result.masked(PersonalData.mask(text:)) : result))
            },
            Tool(name: "case", title: "Read a case",
                 description: "A review case with its subject, queue, state, SLA, signals and reports, timeline and decisions (the read is audited, as opening it in the console is).",
                 scope: .casesRead, schema: schema(["id": integer(1, Int(Int32.max), "case id")], required: ["id"])) { arguments, context in
                guard let id = try Self.integer(arguments, "id", 1...Int(Int64(Int32.max))) else { throw ToolError(message: "id is required") }
                return try context.responseEncoder.encode(try await review.caseDetail(Int64(id), context))
            },
            Tool(name: "incident", title: "Read an incident",
                 description: "An incident with its severity, status, roles, timeline, links, tasks and status updates.",
                 scope: .incidentsRead, schema: schema(["id": integer(1, Int(Int32.max), "incident id")], required: ["id"])) { arguments, context in
                guard let id = try Self.integer(arguments, "id", 1...Int(Int64(Int32.max))) else { throw ToolError(message: "id is required") }
                guard let record = try await components.incidents.store.incident(id: Int64(id)) else { throw ToolError(message: "there is no incident \(id)") }
                return try context.responseEncoder.encode(try await incidents.details(record))
            },
        ]
    }

    // MARK: Arguments

    static func text(_ arguments: [String: JSONValue], _ name: String, required: Bool = false, max: Int = 500) throws -> String? {
        guard let value = arguments[name], value != .null else {
            if required { throw ToolError(message: "\(name) is required") }
            return nil
        }
        guard case .string(let text) = value else { throw ToolError(message: "\(name) is a string") }
        guard !text.isEmpty, text.unicodeScalars.count <= max else { throw ToolError(message: "\(name) is 1 to \(max) characters") }
        return text
    }

    static func integer(_ arguments: [String: JSONValue], _ name: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let value = arguments[name], value != .null else { return nil }
        guard case .number(let number) = value, number.rounded() == number, abs(number) < 9e15, range.contains(Int(number)) else {
            throw ToolError(message: "\(name) is a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(number)
    }

    static func entity(_ arguments: [String: JSONValue], _ name: String) throws -> EntityRef? {
        guard let text = try text(arguments, name, max: 300) else { return nil }
        guard let ref = EntityRef(parsing: text) else { throw ToolError(message: "\(name) is an entity as type:id, such as user:u1") }
        return ref
    }

    static func time(_ arguments: [String: JSONValue], _ name: String) throws -> Int64? {
        guard let text = try text(arguments, name, max: 40) else { return nil }
        guard let value = Timestamp.parseRFC3339(text) ?? (text.count == 10 ? Timestamp.parseRFC3339(text + "T00:00:00Z") : nil) else {
            throw ToolError(message: "\(name) is a date (2026-11-23) or an RFC 3339 time")
        }
        return value
    }

    // MARK: JSON-RPC

    static func result(_ id: JSONValue, _ result: JSONValue) -> Response {
        json(.object(["jsonrpc": .string("2.0"), "id": id, "result": result]), status: .ok)
    }

    static func rpcError(_ id: JSONValue, code: Int, _ message: String, status: HTTPResponse.Status = .ok) -> Response {
        json(.object(["jsonrpc": .string("2.0"), "id": id, "error": .object(["code": .number(Double(code)), "message": .string(message)])]), status: status)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        var writer = JSONWriter()
        write(value, into: &writer)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    /// Writes a JSON value, whole numbers without a fraction (ids come back as they were sent).
    static func write(_ value: JSONValue, into writer: inout JSONWriter) {
        switch value {
        case .null: writer.null()
        case .bool(let flag): writer.bool(flag)
        case .number(let number):
            if number.rounded() == number, abs(number) < 9e15 { writer.number(Int64(number)) } else { writer.number(number) }
        case .string(let text): writer.string(text)
        case .array(let items):
            writer.beginArray()
            for item in items { write(item, into: &writer) }
            writer.endArray()
        case .object(let members):
            writer.beginObject()
            for (key, item) in members.sorted(by: { $0.key < $1.key }) {
                writer.key(key)
                write(item, into: &writer)
            }
            writer.endObject()
        }
    }
}

extension JSONValue {
    var isObject: Bool { if case .object = self { true } else { false } }
}
