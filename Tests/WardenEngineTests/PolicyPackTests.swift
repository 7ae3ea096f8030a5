import Foundation
import Testing
import WardenCore
import WardenStore
@testable import WardenEngine

@Suite struct PolicyPackTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/example").path

    @Test func theExamplePackLoads() throws {
        let pack = try PolicyPack.load(from: Self.example)
        #expect(pack.name == "example")
        #expect(pack.version.count == 12)
        #expect(pack.taxonomy.categoryIDs.contains("harassment.bullying"))
        #expect(pack.entityTypes.contains("wallet"))
        #expect(pack.eventSchema.reportReasons.contains("spam.fake_accounts"))
    }

    @Test func everyProblemIsReportedWithItsFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "name: broken\nentity_types: [Wallet]\n".write(to: directory.appendingPathComponent("pack.yaml"), atomically: true, encoding: .utf8)
        try """
            severities: [low]
            categories:
              - id: fraud.scam
                name: Scam
              - id: spam
            """.write(to: directory.appendingPathComponent("taxonomy.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try PolicyPack.load(from: directory.path)
        } throws: { error in
            guard let error = error as? PolicyPackError else { return false }
            let text = error.description
            return error.problems.count == 2 && text.contains("pack.yaml entity_types[0]") && text.contains("taxonomy.yaml categories[1].name")
        }
        try "severities: [low]\ncategories:\n  - id: fraud.scam\n    name: Scam\n".write(
            to: directory.appendingPathComponent("taxonomy.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try PolicyPack.load(from: directory.path)
        } throws: { error in
            (error as? PolicyPackError)?.problems.map(\.description).contains { $0.contains("parent category \"fraud\"") } == true
        }
    }

    @Test func aMissingPackFileIsNamed() {
        #expect {
            try PolicyPack.load(from: "/nonexistent-pack")
        } throws: { error in
            (error as? PolicyPackError)?.problems.map(\.file) == ["pack.yaml", "taxonomy.yaml"]
        }
    }
}

@Suite struct AccessTokenTests {
    @Test func bootstrapCreatesOneAdminTokenOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("w.sqlite").path)
        let tokens = AccessTokens(store: store)
        let secret = try #require(try await tokens.bootstrap(bootstrapSecret: nil))
        #expect(try await tokens.authenticate(secret)?.scopes == [.admin])
        #expect(try await tokens.bootstrap(bootstrapSecret: nil) == nil)
        #expect(try await tokens.bootstrap(bootstrapSecret: "chosen-by-automation-123") == nil)
        #expect(try await tokens.authenticate("chosen-by-automation-123") != nil)
        await #expect(throws: AccessTokens.BootstrapError.self) { try await tokens.bootstrap(bootstrapSecret: "short") }
        let (record, writer) = try await tokens.create(name: "w", scopes: [.eventsWrite])
        #expect(try await tokens.revoke(id: record.id))
        #expect(try await tokens.authenticate(writer) == nil)
        #expect(try await tokens.list().allSatisfy { !$0.secretHash.isEmpty })
    }
}
