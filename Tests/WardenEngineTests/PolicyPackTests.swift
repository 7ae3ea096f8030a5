import Foundation
import Testing
import WardenClassifiers
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

    /// The DSA mapping is checked against the Transparency Database's current enumerations: a
    /// retired category says what replaced it; unknown keywords, restriction values, content types
    /// and countries are named where they are.
    @Test func theDSAMappingIsCheckedAgainstTheDatabase() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "name: dsa\n".write(to: directory.appendingPathComponent("pack.yaml"), atomically: true, encoding: .utf8)
        try """
            severities: [low]
            categories:
              - id: spam
                name: Spam
                dsa_category: STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE
                dsa_keywords: [KEYWORD_SPAM, KEYWORD_INAUTHENTIC_ACCOUNTS]
            """.write(to: directory.appendingPathComponent("taxonomy.yaml"), atomically: true, encoding: .utf8)
        try """
            territorial_scope: [DE, GB]
            content_types: {user: CONTENT_TYPE_PROFILE}
            actions:
              hide: {restriction: {visibility: DECISION_VISIBILITY_HIDDEN}}
            """.write(to: directory.appendingPathComponent("enforcement.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try PolicyPack.load(from: directory.path)
        } throws: { error in
            let problems = (error as? PolicyPackError)?.problems.map(\.description) ?? []
            let expected = [
                "taxonomy.yaml categories[0].dsa_category": "use STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
                "taxonomy.yaml categories[0].dsa_keywords[0]": "KEYWORD_SPAM",
                "enforcement.yaml actions.hide.restriction.visibility": "DECISION_VISIBILITY_CONTENT_REMOVED",
                "enforcement.yaml territorial_scope[1]": "\"GB\"",
                "enforcement.yaml content_types.user": "CONTENT_TYPE_PROFILE",
            ]
            return problems.count == expected.count && expected.allSatisfy { place, words in
                problems.contains { $0.hasPrefix(place) && $0.contains(words) }
            }
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
        #expect(try await tokens.authenticate(writer) != nil)  // now remembered
        #expect(try await tokens.revoke(id: record.id))
        #expect(try await tokens.authenticate(writer) == nil)
        // Revoked by another process (straight in the store), a remembered token lapses within the cache time.
        final class Clock: WallClock, @unchecked Sendable {
            var now: Int64 = 1_000_000
            func nowMillis() -> Int64 { now }
        }
        let clock = Clock()
        let cached = AccessTokens(store: store, clock: clock)
        let (other, reader) = try await cached.create(name: "r", scopes: [.read])
        #expect(try await cached.authenticate(reader) != nil)
        #expect(try await store.revokeToken(id: other.id, at: clock.now))
        #expect(try await cached.authenticate(reader) != nil)
        clock.now += AccessTokens.cacheMillis
        #expect(try await cached.authenticate(reader) == nil)
        #expect(try await tokens.list().allSatisfy { !$0.secretHash.isEmpty })
    }
}

@Suite struct RulePackTests {
    static func copyOfExample() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: PolicyPackTests.example), to: directory)
        return directory
    }

    @Test func theExamplePacksRuleTestsPass() throws {
        let pack = try PolicyPack.load(from: PolicyPackTests.example)
        #expect(pack.rules.rules.count >= 10)
        let results = pack.runRuleTests()
        #expect(results.count >= 15)
        let failures = results.filter { !$0.passed }.map(\.failures)
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func aWrongExpectationFails() throws {
        let directory = try Self.copyOfExample()
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            - name: deliberately wrong
              events:
                - event: {type: message.sent, actor: {type: user, id: n1}, data: {text: "hello", recipient: u1}}
              expect:
                fires: [scam_lure]
                verdict: block
            """.write(to: directory.appendingPathComponent("tests/wrong.yaml"), atomically: true, encoding: .utf8)
        let results = try PolicyPack.load(from: directory.path).runRuleTests()
        let wrong = try #require(results.first { $0.test.name == "deliberately wrong" })
        #expect(wrong.failures == ["expected scam_lure to fire, it did not", "expected verdict block on the last event, got allow"])
    }

    @Test func rulePackProblemsAreListedWithPlaces() throws {
        let directory = try Self.copyOfExample()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "rule broken category nope when event.typ == 1 then signal\n".write(
            to: directory.appendingPathComponent("rules/zz_broken.rules"), atomically: true, encoding: .utf8)
        try "- name: unknown rule\n  events:\n    - event: {type: x}\n  expect:\n    fires: [no_such_rule]\n".write(
            to: directory.appendingPathComponent("tests/zz.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try PolicyPack.load(from: directory.path)
        } throws: { error in
            let text = (error as? PolicyPackError)?.description ?? ""
            return text.contains("rules/zz_broken.rules:1:13: category nope") && text.contains("rules/zz_broken.rules:1:32: event.typ")
        }
    }

    @Test func classifierDeclarationsAreCheckedAndBuilt() async throws {
        let pack = try PolicyPack.load(from: PolicyPackTests.example)
        #expect(pack.classifiers.classifiers.map(\.name) == ["sms-spam", "spam-policy"] && pack.classifiers.moderation == ["sms-spam"])
        let directory = try Self.copyOfExample()
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            classifiers:
              - {name: a, builtin: a, categories: {spam: nonsense}}
              - {name: a, builtin: b, llama_guard: {base_url: "http://x", model: m}}
              - {name: p, policy_prompt: {base_url: "${NO_SUCH_VARIABLE}", model: m, policy: missing.txt, category: spam}}
            moderation: [a, zz]
            """.write(to: directory.appendingPathComponent("classifiers.yaml"), atomically: true, encoding: .utf8)
        #expect {
            try PolicyPack.load(from: directory.path)
        } throws: { error in
            let text = (error as? PolicyPackError)?.description ?? ""
            return ["classifiers[0].categories.spam", "a is declared twice", "give exactly one of", "the policy file missing.txt",
                    "moderation[1]"].allSatisfy(text.contains)
        }
        // A declared built-in model that was never trained, with no training data named, is
        // unavailable, with what to do.
        let store = try SQLiteStore(path: directory.appendingPathComponent("models.sqlite").path)
        var untrained = pack.classifiers
        untrained.classifiers[0].trainOn = nil
        let registry = await ClassifierRegistry.build(untrained, packDirectory: PolicyPackTests.example, models: store)
        guard case .unavailable(let reason)? = registry.entries["sms-spam"] else {
            Issue.record("an untrained model must be unavailable")
            return
        }
        #expect(reason.contains("warden classifiers train --name sms-spam"))
        // With train_on (as the example pack declares it) the first build trains it on the pack's
        // data and stores it; the next build loads the stored one.
        let trained = await ClassifierRegistry.build(pack.classifiers, packDirectory: PolicyPackTests.example, models: store)
        guard case .ready(let classifier, _)? = trained.entries["sms-spam"] else {
            Issue.record("a model with training data in the pack must be trained on first start")
            return
        }
        #expect(try await classifier.classify(ClassifierInput(text: "WINNER!! Claim your free prize now, call 09061701461")).flagged == ["spam"])
        let stored = try #require(try await store.model(named: "sms-spam", version: nil))
        #expect(stored.trainedOn == "sms_spam_collection.tsv" && stored.examples == 5574 && stored.version == 1)
        _ = await ClassifierRegistry.build(pack.classifiers, packDirectory: PolicyPackTests.example, models: store)
        #expect(try await store.model(named: "sms-spam", version: nil)?.version == 1)
        // A served model whose base URL is not configured is unavailable too, saying which variable to set.
        let unconfigured = await ClassifierRegistry.build(pack.classifiers, packDirectory: PolicyPackTests.example, models: store, environment: [:])
        guard case .unavailable(let why)? = unconfigured.entries["spam-policy"] else {
            Issue.record("a served model without its base URL must be unavailable")
            return
        }
        #expect(why.contains("WARDEN_LLM_URL") && unconfigured.served.isEmpty)
    }
}

@Suite struct ReviewPackTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("policies/example")

    /// A copy of the example pack with `edit` applied to some files, loaded; the problems' texts.
    func problems(_ edits: [String: (String) -> String]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.example, to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (file, edit) in edits {
            let url = directory.appendingPathComponent(file)
            try edit(try String(contentsOf: url, encoding: .utf8)).write(to: url, atomically: true, encoding: .utf8)
        }
        do {
            _ = try PolicyPack.load(from: directory.path)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func theExamplePackHasQueuesActionsTreesAndMacros() throws {
        let pack = try PolicyPack.load(from: Self.example.path)
        #expect(pack.review.configuration.queueOrder == ["urgent", "scams", "harassment", "spam", "general", "appeals"])
        #expect(pack.review.catalogue.ladder(for: "spam.links")?.steps.count == 4)
        #expect(pack.review.webhook.maxPerSecond == 1000)
        #expect(Set(pack.review.trees.keys) == ["scam_message", "harassment"])
        #expect(pack.review.macros["report_not_actioned"]?.kind == .reporterReply)
    }

    /// `quality.yaml`: the example pack's taxonomy and target load; bad ids, duplicates, empty names
    /// and a target outside (0, 1) are each reported with their place.
    @Test func theQualityFileIsLoadedAndChecked() throws {
        let pack = try PolicyPack.load(from: Self.example.path)
        #expect(pack.quality.targetAccuracy == 0.93)
        #expect(pack.quality.errorTypes.map(\.id).contains("missed_context") && pack.quality.errorTypes.count == 7)
        let found = try problems([
            "quality.yaml": { $0.replacingOccurrences(of: "target_accuracy: 0.93", with: "target_accuracy: 93")
                .replacingOccurrences(of: "id: wrong_action", with: "id: Wrong Action")
                .replacingOccurrences(of: "id: missed_context", with: "id: missed_violation")
                .replacingOccurrences(of: "name: Missing evidence", with: "name: \"  \"") },
        ])
        #expect(found.contains("quality.yaml target_accuracy: is a fraction between 0 and 1 such as 0.95, not 93.0"))
        #expect(found.contains { $0.hasPrefix("quality.yaml error_types[3].id: is lower-case letters") })
        #expect(found.contains("quality.yaml error_types[6].id: error type missed_violation is declared twice"))
        #expect(found.contains("quality.yaml error_types[4].name: is a name of 1 to 200 characters"))
    }

    @Test func certificationRulesAreLoadedAndChecked() throws {
        let pack = try PolicyPack.load(from: Self.example.path)
        #expect(pack.quality.certification["harassment"] == QualityPack.CertificationRule(queue: "harassment", threshold: 0.8, items: 5, required: false))
        #expect(!pack.quality.requiresCertification("harassment") && !pack.quality.requiresCertification("spam"))
        let found = try problems([
            "quality.yaml": { $0 + "  nowhere: {threshold: 0.9, items: 5}\n  spam: {threshold: 1.5, items: 5}\n  scams: {threshold: 0.9, items: 500}\n" },
        ])
        #expect(found.contains { $0.hasPrefix("quality.yaml certification.nowhere: nowhere is not a queue of queues.yaml") })
        #expect(found.contains("quality.yaml certification.spam.threshold: is the share of right answers that certifies, above 0 and at most 1, not 1.5"))
        #expect(found.contains("quality.yaml certification.scams.items: is how many golden items a training run has, 1 to 200, not 500"))
        #expect(pack.quality.goldenMix == ["harassment": 0.02])
        let mix = try problems(["quality.yaml": { $0.replacingOccurrences(of: "  harassment: 0.02\n", with: "  harassment: 0\n  nowhere: 0.1\n  spam: 1.5\n") }])
        #expect(found.count == 3 && mix.count == 3)
        #expect(mix.contains("quality.yaml golden_mix.harassment: is the share of claims that get a golden item, above 0 and at most 1 (0.02 is one in fifty), not 0.0"))
        #expect(mix.contains { $0.hasPrefix("quality.yaml golden_mix.nowhere: nowhere is not a queue of queues.yaml") })
        #expect(mix.contains { $0.hasPrefix("quality.yaml golden_mix.spam: is the share of claims") && $0.hasSuffix("not 1.5") })
    }

    @Test func reviewFileProblemsArePlaced() throws {
        let found = try problems([
            "queues.yaml": { $0.replacingOccurrences(of: "p1: {first_action: 15m, resolution: 1h}", with: "p7: {first_action: soon}") },
            "enforcement.yaml": { $0.replacingOccurrences(of: "steps: [warn, suspend 24h, suspend 7d, ban]", with: "steps: [warn, suspend, explode]")
                .replacingOccurrences(of: "max_per_second: 1000", with: "max_per_second: 0") },
            "trees/scam_message.yaml": { $0.replacingOccurrences(of: "outcome: not_a_scam", with: "outcome: not_scam") },
            "rules/spam.rules": { $0.replacingOccurrences(of: "route queue \"spam\"", with: "route queue \"spamm\"") },
        ])
        #expect(found.contains { $0.hasPrefix("queues.yaml queues[0].sla.targets.p7") })
        #expect(found.contains { $0.contains("enforcement.yaml ladders[0].steps[1]: suspend needs a duration") })
        #expect(found.contains { $0.contains("enforcement.yaml webhook.max_per_second: must be at least 1") })
        #expect(found.contains { $0.contains("enforcement.yaml ladders[0].steps[2]: \"explode\" does not start with an action") })
        #expect(found.contains { $0.contains("trees/scam_message.yaml questions.impersonation.answers[1]: outcome \"not_scam\" is not one of the outcomes") })
        #expect(found.contains { $0.hasPrefix("rules/spam.rules:") && $0.contains("routes to queue \"spamm\"") })
    }
}
