import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import WardenCore
import WardenEngine
import WardenStore
@testable import WardenHTTP

/// Hash banks over HTTP: the pack's banks created with their seeds, banks and hashes kept through
/// the API (audited, bad input changing nothing), HMA and ThreatExchange files in and out,
/// deconfirming a false match, negative banks, and rules that fire on a match.
@Suite struct HashBankAPITests {
    static let cppOriginal = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
    static let cppRotate90 = "b0a10efd71cc3f429413d48d0ffffe12e34e0e17ada952a9d29684210aa9e5af"
    static let unrelated = "9c151c3af838278e3ef57c180c7d031c07aefd12f2ccc1e18f2a1e1c7d0ff163"

    func upload(_ id: String, pdq: String) -> String {
        #"{"id":"\#(id)","type":"media.uploaded","occurred_at":"2026-11-23T08:00:00Z","actor":{"type":"user","id":"poster"},"entities":{"content":"\#(id)"},"data":{"pdq":"\#(pdq)"}}"#
    }

    @Test func thePacksBanksAreCreatedWithTheirSeedsAndRulesFireOnAMatch() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let list = try await client.get("/v1/banks", token: harness.admin)
            let banks = try #require(list.json["banks"] as? [[String: Any]])
            #expect(banks.compactMap { $0["name"] as? String } == ["allowed-images", "known-malware-md5", "known-ve-images"])
            #expect(banks.first { $0["name"] as? String == "known-ve-images" }?["hashes"] as? Int == 8)
            #expect(banks.first { $0["name"] as? String == "allowed-images" }?["negative"] as? Bool == true)

            // The same picture hashed elsewhere matches; an allowed one and an unrelated one do not.
            let body = [upload("m1", pdq: Self.cppOriginal), upload("m2", pdq: "2dadda64b5a142e5d362209057da895ae63b8c7fc277b4b766b319361f893188"),
                        upload("m3", pdq: Self.unrelated), upload("m4", pdq: "not-a-hash")].joined(separator: "\n")
            _ = try await client.post("/v1/events", token: harness.writer, contentType: "application/x-ndjson", body: body)
            _ = try await harness.detection.processNext()
            let signals = try await harness.store.signals(before: nil, limit: 10, subject: nil, rule: "known_ve_image")
            #expect(signals.map(\.subject?.id) == ["m1"])

            let match = try await client.post("/v1/hashes/match", token: harness.admin, body: #"{"pdq":"\#(Self.cppRotate90)"}"#)
            #expect(match.json["matched"] as? Bool == true)
            let found = try #require((match.json["matches"] as? [[String: Any]])?.first)
            #expect(found["bank"] as? String == "known-ve-images" && found["distance"] as? Int == 10 && found["kind"] as? String == "pdq", "\(match.json)")
            let allowed = try await client.post("/v1/hashes/match", token: harness.admin, body: #"{"pdq":"2dadda64b5a142e5d362209057da895ae63b8c7fc277b4b766b319361f893188"}"#)
            #expect(allowed.json["matched"] as? Bool == false)
            #expect((allowed.json["matches"] as? [[String: Any]])?.first?["suppressed_by"] as? String == "allowed-images")
        }
    }

    @Test func banksAndHashesAreKeptAuditedAndBadInputChangesNothing() async throws {
        let harness = try await Harness.make()
        let analyst = try await harness.token("analyst", [.banksRead, .banksWrite])
        let reviewer = try await harness.token("reviewer", [.casesRead, .casesReview])
        try await harness.test { client in
            let created = try await client.post("/v1/banks", token: analyst.secret, body: #"{"name":"team-finds","kind":"pdq","threshold":12,"description":"ours"}"#)
            #expect(created.status == .created, "\(String(buffer: created.body))")
            #expect(try await client.post("/v1/banks", token: analyst.secret, body: #"{"name":"team-finds","kind":"pdq"}"#).status == .conflict)
            let badThreshold = try await client.post("/v1/banks", token: analyst.secret, body: #"{"name":"md5s","kind":"md5","threshold":4}"#)
            #expect(badThreshold.status == .unprocessableContent)
            #expect((badThreshold.json["detail"] as? String)?.contains("match exactly") == true)
            #expect(try await client.post("/v1/banks", token: reviewer.secret, body: #"{"name":"x","kind":"pdq"}"#).status == .forbidden)

            let add = try await client.post("/v1/banks/team-finds/hashes", token: analyst.secret, body: """
                {"hashes":[{"hash":"\(Self.cppOriginal.uppercased())","tags":["raid-1"],"content_id":"c-9"},{"hash":"\(Self.unrelated)"}]}
                """)
            #expect(add.json["added"] as? Int == 2 && add.json["updated"] as? Int == 0, "\(add.json)")
            let again = try await client.post("/v1/banks/team-finds/hashes", token: analyst.secret, body: #"{"hashes":[{"hash":"\#(Self.unrelated)","tags":["raid-2"]}]}"#)
            #expect(again.json["added"] as? Int == 0 && again.json["updated"] as? Int == 1)
            // One bad hash refuses the whole request, saying which.
            let before = try await harness.store.hashBankCounts()["team-finds"]?.total
            let bad = try await client.post("/v1/banks/team-finds/hashes", token: analyst.secret, body: #"{"hashes":[{"hash":"\#(Self.cppRotate90)"},{"hash":"44d88612fea8a8f36de82e1278abb02f"}]}"#)
            #expect(bad.status == .unprocessableContent)
            #expect((bad.json["detail"] as? String)?.hasPrefix("hashes[1].hash: a pdq hash is 64 hexadecimal digits") == true, "\(bad.json)")
            #expect(try await harness.store.hashBankCounts()["team-finds"]?.total == before)
            #expect(try await client.post("/v1/banks/nope/hashes", token: analyst.secret, body: #"{"hashes":[{"hash":"\#(Self.unrelated)"}]}"#).status == .notFound)

            let page = try await client.get("/v1/banks/team-finds/hashes?limit=1", token: analyst.secret)
            let first = try #require((page.json["hashes"] as? [[String: Any]])?.first)
            #expect(first["hash"] as? String == Self.cppOriginal && first["content_id"] as? String == "c-9" && first["opinion"] as? String == "unreviewed")
            let next = try #require(page.json["next"] as? Int)
            let second = try await client.get("/v1/banks/team-finds/hashes?after=\(next)", token: analyst.secret)
            #expect((second.json["hashes"] as? [[String: Any]])?.first?["tags"] as? [String] == ["raid-2"])

            // A false match is deconfirmed: it stops matching at once, and an import does not bring it back.
            let id = try #require(first["id"] as? Int)
            let probe = #"{"pdq":"d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22","banks":["team-finds"]}"#
            #expect(try await client.post("/v1/hashes/match", token: analyst.secret, body: probe).json["matched"] as? Bool == true)
            let deconfirmed = try await client.post("/v1/banks/team-finds/hashes/\(id)/deconfirm", token: analyst.secret, body: #"{"note":"a news photo"}"#)
            #expect(deconfirmed.json["opinion"] as? String == "deconfirmed")
            #expect(try await client.post("/v1/hashes/match", token: analyst.secret, body: probe).json["matched"] as? Bool == false)
            let reimport = try await client.post("/v1/banks/team-finds/import", token: analyst.secret, body: """
                {"format":"hma","data":"{\\"pdq\\": \\"\(Self.cppOriginal)\\"}\\n{\\"md5\\": \\"44d88612fea8a8f36de82e1278abb02f\\"}"}
                """)
            #expect(reimport.json["unchanged"] as? Int == 1 && reimport.json["other_kinds"] as? Int == 1, "\(reimport.json)")
            #expect(try await client.post("/v1/hashes/match", token: analyst.secret, body: probe).json["matched"] as? Bool == false)
            let confirmed = try await client.post("/v1/banks/team-finds/hashes/\(id)/confirm", token: analyst.secret, body: "")
            #expect(confirmed.json["opinion"] as? String == "confirmed")
            #expect(try await client.post("/v1/hashes/match", token: analyst.secret, body: probe).json["matched"] as? Bool == true)
            #expect(try await client.post("/v1/banks/team-finds/hashes/999999/confirm", token: analyst.secret, body: "").status == .notFound)

            // ThreatExchange out and into another bank.
            let export = try await client.get("/v1/banks/team-finds/export?format=threatexchange", token: analyst.secret)
            let descriptors = try #require(export.json["data"] as? [[String: Any]])
            #expect(descriptors.map { $0["type"] as? String } == ["HASH_PDQ", "HASH_PDQ"] && descriptors.first?["status"] as? String == "MALICIOUS")
            _ = try await client.post("/v1/banks", token: analyst.secret, body: #"{"name":"copy","kind":"pdq"}"#)
            let data = String(buffer: export.body)
            let escaped = String(data: try JSONSerialization.data(withJSONObject: ["format": "threatexchange", "data": data]), encoding: .utf8)!
            let imported = try await client.post("/v1/banks/copy/import", token: analyst.secret, body: escaped)
            #expect(imported.json["added"] as? Int == 2, "\(imported.json)")
            let broken = try await client.post("/v1/banks/copy/import", token: analyst.secret, body: #"{"format":"threatexchange","data":"{\"data\": [{\"type\": \"HASH_PDQ\"}]}"}"#)
            #expect(broken.status == .unprocessableContent && (broken.json["detail"] as? String)?.hasPrefix("descriptor 1: raw_indicator is missing") == true)

            let changed = try await client.execute(uri: "/v1/banks/team-finds", method: .patch, headers: [.authorization: "Bearer \(analyst.secret)", .contentType: "application/json"],
                                                   body: ByteBuffer(string: #"{"threshold":3}"#))
            #expect(changed.json["threshold"] as? Int == 3)
            let removed = try await client.execute(uri: "/v1/banks/copy", method: .delete, headers: [.authorization: "Bearer \(analyst.secret)"])
            #expect(removed.status == .noContent)
            #expect(try await client.get("/v1/banks/copy", token: analyst.secret).status == .notFound)

            let actions = try await harness.store.auditEntries(after: 0, limit: 500).filter { $0.action.hasPrefix("bank.") }
            #expect(actions.filter { $0.actor == analyst.actor }.map(\.action) == [
                "bank.create", "bank.add", "bank.add", "bank.deconfirm", "bank.import", "bank.confirm", "bank.create", "bank.import", "bank.update", "bank.delete",
            ])
            #expect(actions.contains { $0.actor == "system:pack" && $0.action == "bank.import" && $0.target == "bank:known-ve-images" })
        }
    }
}
