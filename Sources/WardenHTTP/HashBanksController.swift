import Foundation
import Hummingbird
import WardenCore
import WardenEngine
import WardenInvestigations
import WardenStore

struct CreateBankBody: RequestBody {
    var name: String
    var kind: HashKind
    var threshold: Int?
    var negative: Bool?
    var description: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case name, kind, threshold, negative, description }

    func validate() throws(Problem) {
        try Bounds.text(name, "name", max: 64, nonBlank: true)
        try Bounds.text(description, "description", max: 2_000)
    }
}

struct ChangeBankBody: RequestBody {
    var threshold: Int?
    var description: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case threshold, description }

    func validate() throws(Problem) { try Bounds.text(description, "description", max: 2_000) }
}

struct AddHashesBody: RequestBody {
    struct Item: Decodable, Sendable {
        var hash: String
        var tags: [String]?
        var contentId: String?
        enum CodingKeys: String, CodingKey { case hash, tags, contentId = "content_id" }
    }
    var hashes: [Item]
    enum CodingKeys: String, CodingKey, CaseIterable { case hashes }
    static var nestedMembers: [String: [String]] { ["hashes": ["hash", "tags", "content_id"]] }

    func validate() throws(Problem) {
        guard (1...10_000).contains(hashes.count) else { throw RequestInput.invalid("hashes", "gives \(hashes.count) hashes; give 1 to 10000 (import files for more)") }
        for (index, item) in hashes.enumerated() {
            try Bounds.text(item.hash, "hashes[\(index)].hash", max: 64, nonBlank: true)
            try Bounds.texts(item.tags, "hashes[\(index)].tags", max: 100, maxItems: 20)
            try Bounds.text(item.contentId, "hashes[\(index)].content_id", max: 200)
            for (tagIndex, tag) in (item.tags ?? []).enumerated() where tag.isEmpty {
                throw RequestInput.invalid("hashes[\(index)].tags[\(tagIndex)]", "must not be empty")
            }
        }
    }
}

struct ImportBody: RequestBody {
    var format: HashExchangeFormat
    var data: String
    enum CodingKeys: String, CodingKey, CaseIterable { case format, data }
}

extension HashExchangeFormat: Decodable {}

struct OpinionBody: RequestBody {
    var note: String?
    enum CodingKeys: String, CodingKey, CaseIterable { case note }
    func validate() throws(Problem) { try Bounds.text(note, "note", max: 2_000) }
}

struct MatchBody: RequestBody {
    var pdq: String?
    var md5: String?
    var sha256: String?
    var banks: [String]?
    enum CodingKeys: String, CodingKey, CaseIterable { case pdq, md5, sha256, banks }

    func validate() throws(Problem) {
        guard pdq != nil || md5 != nil || sha256 != nil else { throw RequestInput.invalid(nil, "give at least one hash: pdq, md5 or sha256") }
        try Bounds.texts(banks, "banks", max: 64, maxItems: 100)
    }
}

struct BankResponse: ResponseEncodable {
    var name: String
    var kind: String
    var threshold: Int
    var negative: Bool
    var description: String
    var hashes: Int
    var deconfirmed: Int
    var indexed: Int
    var createdBy: String
    var createdAt: String

    init(_ bank: HashBank, total: Int, deconfirmed: Int, indexed: Int) {
        name = bank.name
        kind = bank.kind.rawValue
        threshold = bank.threshold
        negative = bank.negative
        description = bank.description
        hashes = total
        self.deconfirmed = deconfirmed
        self.indexed = indexed
        createdBy = bank.createdBy
        createdAt = Timestamp.formatRFC3339(bank.createdAt)
    }
}

struct BankList: ResponseEncodable { var banks: [BankResponse] }

struct BankEntryResponse: ResponseEncodable {
    var id: Int64
    var hash: String
    var opinion: String
    var tags: [String]
    var contentId: String?
    var addedBy: String
    var addedAt: String

    init(_ entry: BankEntry) {
        id = entry.id
        hash = entry.hash
        opinion = entry.opinion.rawValue
        tags = entry.tags
        contentId = entry.contentID
        addedBy = entry.addedBy
        addedAt = Timestamp.formatRFC3339(entry.addedAt)
    }
}

struct BankEntryPage: ResponseEncodable {
    var hashes: [BankEntryResponse]
    var next: Int64?
}

struct AdditionResponse: ResponseEncodable {
    var added: Int
    var updated: Int
    var unchanged: Int
    var otherKinds: Int
}

struct MatchResponse: ResponseEncodable {
    struct Match: Encodable {
        var kind: String
        var bank: String
        var entry: Int64
        var distance: Int
        var suppressedBy: String?
    }
    /// Whether any match stands (none suppressed by a negative bank).
    var matched: Bool
    var matches: [Match]
}

/// `/v1/banks` and `/v1/hashes/match`: banks of known content hashes, their hashes and opinions,
/// exchange files, and matching.
struct HashBanksController {
    let banks: HashBankService
    let maxBodyBytes: Int

    func addRoutes(to routes: RouteTable) {
        routes.add(.get, "/v1/banks", scope: .banksRead) { _, _ in
            let indexes = banks.lookups.hashes.indexes
            return BankList(banks: try await banks.banks().map { BankResponse($0.0, total: $0.total, deconfirmed: $0.deconfirmed, indexed: indexes[$0.0.name]?.count ?? 0) })
        }
        routes.add(.post, "/v1/banks", scope: .banksWrite, status: .created) { request, context in
            let body = try await input(request).body(CreateBankBody.self)
            let bank = try await Self.run {
                try await banks.create(name: body.name, kind: body.kind, threshold: body.threshold, negative: body.negative ?? false,
                                       description: body.description ?? "", actor: context.actor)
            }
            return BankResponse(bank, total: 0, deconfirmed: 0, indexed: 0)
        }
        routes.add(.get, "/v1/banks/{name}", scope: .banksRead) { _, context in
            try await response(for: context.path("name"))
        }
        routes.add(.patch, "/v1/banks/{name}", scope: .banksWrite) { request, context in
            let name = context.path("name")
            let body = try await input(request).body(ChangeBankBody.self)
            _ = try await Self.run { try await banks.update(name: name, threshold: body.threshold, description: body.description, actor: context.actor) }
            return try await response(for: name)
        }
        routes.add(.delete, "/v1/banks/{name}", scope: .banksWrite) { _, context in
            let name = context.path("name")
            try await Self.run { try await banks.delete(name: name, actor: context.actor) }
            return Response(status: .noContent)
        }
        routes.add(.get, "/v1/banks/{name}/hashes", scope: .banksRead) { request, context in
            let query = RequestInput(request: request, limit: 0)
            let after = try query.integer("after", default: 0, range: 0...Int64.max)
            let limit = Int(try query.integer("limit", default: 100, range: 1...1_000))
            let page = try await Self.run { try await banks.entries(bank: context.path("name"), after: after, limit: limit + 1) }
            return BankEntryPage(hashes: page.prefix(limit).map(BankEntryResponse.init), next: page.count > limit ? page[limit - 1].id : nil)
        }
        routes.add(.post, "/v1/banks/{name}/hashes", scope: .banksWrite) { request, context in
            let name = context.path("name")
            let body = try await input(request).body(AddHashesBody.self)
            let result = try await Self.run {
                try await banks.add(bank: name, hashes: body.hashes.map { ($0.hash, $0.tags ?? [], $0.contentId) }, actor: context.actor)
            }
            return AdditionResponse(added: result.added, updated: result.updated, unchanged: result.unchanged, otherKinds: 0)
        }
        routes.add(.post, "/v1/banks/{name}/import", scope: .banksWrite) { request, context in
            let name = context.path("name")
            let body = try await input(request).body(ImportBody.self)
            let (result, other) = try await Self.run { try await banks.importFile(bank: name, text: body.data, format: body.format, actor: context.actor) }
            return AdditionResponse(added: result.added, updated: result.updated, unchanged: result.unchanged, otherKinds: other)
        }
        routes.add(.get, "/v1/banks/{name}/export", scope: .banksRead) { request, context in
            let name = context.path("name")
            let format = try RequestInput(request: request, limit: 0).choice("format", HashExchangeFormat.self) ?? .hma
            let text = try await Self.run { try await banks.export(bank: name, format: format) }
            return Response(status: .ok, headers: [.contentType: format.contentType,
                                                   .contentDisposition: "attachment; filename=\"\(name)-\(format.rawValue).\(format == .hma ? "jsonl" : "json")\""],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        for (verb, opinion) in [("confirm", HashOpinion.confirmed), ("deconfirm", .deconfirmed)] {
            routes.add(.post, "/v1/banks/{name}/hashes/{id}/\(verb)", scope: .banksWrite) { request, context in
                let name = context.path("name")
                let id = try context.id("id")
                let body = try await input(request).body(OpinionBody.self, allowEmpty: true)
                let entry = try await Self.run { try await banks.setOpinion(bank: name, id: id, opinion: opinion, note: body?.note, actor: context.actor) }
                return BankEntryResponse(entry)
            }
        }
        routes.add(.delete, "/v1/banks/{name}/hashes/{id}", scope: .banksWrite) { _, context in
            let name = context.path("name")
            let id = try context.id("id")
            try await Self.run { try await banks.deleteEntry(bank: name, id: id, actor: context.actor) }
            return Response(status: .noContent)
        }
        routes.add(.post, "/v1/hashes/match", scope: .banksRead) { request, _ in
            let body = try await input(request).body(MatchBody.self)
            var given: [HashKind: String] = [:]
            given[.pdq] = body.pdq
            given[.md5] = body.md5
            given[.sha256] = body.sha256
            let found = try await Self.run { try banks.match(given, banks: body.banks) }
            let matches = found.map { MatchResponse.Match(kind: $0.0.rawValue, bank: $0.1.bank, entry: $0.1.entry, distance: $0.1.distance, suppressedBy: $0.1.suppressedBy) }
            return MatchResponse(matched: found.contains { $0.1.counts }, matches: matches)
        }
    }

    func response(for name: String) async throws -> BankResponse {
        let bank = try await Self.run { try await banks.bank(named: name) }
        let counts = try await banks.store.hashBankCounts()[name]
        return BankResponse(bank, total: counts?.total ?? 0, deconfirmed: counts?.deconfirmed ?? 0, indexed: banks.lookups.hashes.indexes[name]?.count ?? 0)
    }

    func input(_ request: Request) -> RequestInput { RequestInput(request: request, limit: maxBodyBytes) }

    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as HashBankError {
            switch error {
            case .notFound(let text): throw Problem.notFound(text)
            case .conflict(let text): throw Problem(.conflict, "bank-conflict", title: "Conflict", detail: text)
            case .invalid(let text): throw Problem(.unprocessableContent, "invalid-hashes", title: "Invalid hashes", detail: text)
            }
        }
    }
}
