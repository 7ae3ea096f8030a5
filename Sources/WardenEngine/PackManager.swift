import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
public import WardenCore
import WardenRules
public import WardenStore

/// Keeps the policy pack in force and changes it safely: a new pack must load, check and pass its
/// own rule tests before it replaces the running one; otherwise the running one stays and the
/// failure is reported and recorded. Every rule version ever activated is kept with the change
/// that brought it and who made it.
public final class PackManager: Sendable {
    /// What a reload did.
    public enum Outcome: Sendable {
        case activated(PolicyPack)
        case unchanged(PolicyPack)
        case rejected([String])
    }

    private let directory: String
    private let current: Mutex<PolicyPack>
    private let pipeline: DetectionPipeline
    private let intake: Intake?
    private let history: any RuleHistoryStore
    private let clock: any WallClock
    private let logger: Logger

    /// Manages `pack`, loaded from its directory, for `pipeline`.
    /// The pack's classifiers in force, and how to build them for a pack (nil: none are built).
    private let registry: Mutex<ClassifierRegistry>
    private let buildClassifiers: (@Sendable (PolicyPack) async -> ClassifierRegistry)?

    public init(pack: PolicyPack, pipeline: DetectionPipeline, intake: Intake? = nil, history: any RuleHistoryStore, clock: any WallClock = SystemWallClock(),
                logger: Logger,
                classifiers: ClassifierRegistry = ClassifierRegistry(entries: [:], moderation: []),
                buildClassifiers: (@Sendable (PolicyPack) async -> ClassifierRegistry)? = nil) {
        directory = pack.directory
        current = Mutex(pack)
        registry = Mutex(classifiers)
        self.buildClassifiers = buildClassifiers
        self.pipeline = pipeline
        self.intake = intake
        self.history = history
        self.clock = clock
        self.logger = logger
    }

    /// The pack in force.
    public var pack: PolicyPack { current.withLock { $0 } }

    /// The classifiers in force (rebuilt on every reload, so a retrained model goes live with
    /// `POST /v1/policy-pack/reload` even when no pack file changed).
    public var classifiers: ClassifierRegistry { registry.withLock { $0 } }

    private func rebuildClassifiers(for pack: PolicyPack) async {
        guard let buildClassifiers else { return }
        let built = await buildClassifiers(pack)
        registry.withLock { $0 = built }
        pipeline.replaceClassifiers(scorers: built.scorers, served: built.served)
        for (name, entry) in built.entries.sorted(by: { $0.key < $1.key }) {
            if case .unavailable(let reason) = entry { logger.warning("classifier \(name) is unavailable: \(reason)") }
        }
    }

    /// Records the pack a process starts with.
    public func recordStart() async throws {
        let pack = self.pack
        try await history.record(PackChange(at: clock.nowMillis(), actor: "startup", packVersion: pack.version, outcome: "activated",
                                            detail: "\(pack.rules.rules.count) rules"), activating: versions(of: pack))
    }

    /// Loads the pack directory again and puts it in force if it checks and its tests pass.
    public func reload(actor: String) async throws -> Outcome {
        let now = clock.nowMillis()
        let candidate: PolicyPack
        do {
            candidate = try PolicyPack.load(from: directory)
        } catch {
            let problems = error.problems.map(\.description)
            try await history.record(PackChange(at: now, actor: actor, packVersion: nil, outcome: "rejected",
                                                detail: problems.joined(separator: "\n")), activating: [])
            logger.error("policy pack rejected: it does not check", metadata: ["problems": "\(problems.count)", "actor": "\(actor)"])
            return .rejected(problems)
        }
        if candidate.version == pack.version {
            await rebuildClassifiers(for: pack)
            return .unchanged(candidate)
        }
        let failures = candidate.runRuleTests().filter { !$0.passed }.map { "\($0.test.file): \($0.test.name): \($0.failures.joined(separator: "; "))" }
        guard failures.isEmpty else {
            try await history.record(PackChange(at: now, actor: actor, packVersion: candidate.version, outcome: "rejected",
                                                detail: failures.joined(separator: "\n")), activating: [])
            logger.error("policy pack rejected: its tests fail", metadata: ["failures": "\(failures.count)", "actor": "\(actor)"])
            return .rejected(failures)
        }
        pipeline.replaceRules(candidate.rules)
        intake?.replaceSchema(candidate.eventSchema)
        current.withLock { $0 = candidate }
        await rebuildClassifiers(for: candidate)
        try await history.record(PackChange(at: now, actor: actor, packVersion: candidate.version, outcome: "activated",
                                            detail: "\(candidate.rules.rules.count) rules"), activating: versions(of: candidate))
        logger.info("policy pack activated", metadata: ["version": "\(candidate.version)", "actor": "\(actor)"])
        return .activated(candidate)
    }

    private func versions(of pack: PolicyPack) -> [RuleVersionRecord] {
        pack.rules.rules.map { rule in
            RuleVersionRecord(rule: rule.name, version: rule.version, mode: rule.mode.rawValue, source: rule.source,
                              firstActiveAt: clock.nowMillis(), packVersion: pack.version)
        }
    }
}
