import Foundation
public import Logging
public import Metrics
public import ServiceLifecycle
import Synchronization
import WardenClassifiers
public import WardenCore
import WardenRules
public import WardenStore

/// Asks classifiers served over an API the questions rules left pending, and fires the rules
/// their answers make true. Detection never waits for a model: it evaluates everything else about
/// an event, stores the hit as a job with what is left to decide (see `PendingCondition`), and
/// moves on. This stage works through the jobs in their own order, several at once, so one slow
/// answer holds up no other job (a model slow enough to fill every slot delays the rest too).
///
/// A job is settled once: fired (an active rule's signal is written then, in the same
/// transaction, so cases follow as for any signal), not fired, or failed after its attempts
/// (an unavailable classifier, timeouts, errors, unreadable answers), each counted in
/// `warden_classification_jobs_total{outcome}` and listed by `GET /v1/classifications`.
public final class ClassificationStage: Service, Sendable {
    /// How the stage retries.
    public struct Settings: Sendable {
        /// Jobs worked on at once (each classifier also has its own concurrency limit).
        public var concurrency = 8
        /// Attempts before a job fails.
        public var maxAttempts = 5
        /// The first retry's delay and the longest (ms); delays double in between, with jitter.
        public var baseDelay: Int64 = 1000
        public var maxDelay: Int64 = 300_000
        /// How often to look for due jobs when there are none.
        public var idlePoll: Duration = .milliseconds(50)

        public init() {}
    }

    private let jobs: any ClassificationJobStore
    private let classifiers: @Sendable () -> ClassifierRegistry
    private let clock: any WallClock
    private let settings: Settings
    /// Counts a fired hit toward its rule's budget (the detector's safety valve) and says whether
    /// that demotes the rule; nil: no budgets.
    private let budget: (@Sendable (_ rule: String, _ version: String, _ at: Int64) -> (reason: String, severity: String)?)?
    private let logger: Logger
    private let outcomes: [String: Counter]
    /// Jobs being worked on now (so the next look for due jobs skips them).
    private let working = Mutex<Set<Int64>>([])

    /// A stage settling `jobs` with the classifiers in force (read for every job, so a reload applies at once).
    public init(jobs: any ClassificationJobStore, classifiers: @escaping @Sendable () -> ClassifierRegistry, clock: any WallClock = SystemWallClock(),
                settings: Settings = Settings(),
                budget: (@Sendable (_ rule: String, _ version: String, _ at: Int64) -> (reason: String, severity: String)?)? = nil,
                logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.budget = budget
        self.jobs = jobs
        self.classifiers = classifiers
        self.clock = clock
        self.settings = settings
        self.logger = logger
        outcomes = Dictionary(uniqueKeysWithValues: ["fired", "not_fired", "retried", "failed"].map { outcome in
            (outcome, Counter(label: WardenMetric.classificationJobs.rawValue, dimensions: [("outcome", outcome)], factory: metrics))
        })
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let free = self.settings.concurrency - self.working.withLock { $0.count }
                    var started = 0
                    if free > 0 {
                        do {
                            let due = try await self.jobs.dueClassificationJobs(at: self.clock.nowMillis(), limit: self.settings.concurrency * 2)
                            for job in due where started < free && self.working.withLock({ $0.insert(job.id).inserted }) {
                                started += 1
                                group.addTask {
                                    await self.settle(job)
                                    _ = self.working.withLock { $0.remove(job.id) }
                                }
                            }
                        } catch {
                            self.logger.error("classification jobs cannot be read; retrying", metadata: ["error": "\(error)"])
                        }
                    }
                    if started == 0 { try? await Task.sleep(for: self.settings.idlePoll) }
                }
                group.cancelAll()
            }
        }
    }

    /// Settles (or reschedules) every job due now, at most `concurrency` at once, and returns how
    /// many it handled. For tests and tools; the service runs continuously instead.
    @discardableResult
    public func settleDue() async throws -> Int {
        let due = try await jobs.dueClassificationJobs(at: clock.nowMillis(), limit: 10_000)
        await withTaskGroup(of: Void.self) { group in
            var remaining = due.makeIterator()
            for _ in 0..<settings.concurrency {
                guard let job = remaining.next() else { break }
                group.addTask { await self.settle(job) }
            }
            // As each finishes, the next starts.
            while await group.next() != nil {
                if let job = remaining.next() { group.addTask { await self.settle(job) } }
            }
        }
        return due.count
    }

    /// Asks the job's questions and records the outcome.
    func settle(_ job: ClassificationJob) async {
        let settlement = await decide(job)
        do {
            // Settled elsewhere meanwhile (another process on the same store): nothing to count.
            guard try await jobs.settleClassificationJob(id: job.id, settlement, at: clock.nowMillis()) else { return }
        } catch {
            logger.error("classification job not recorded; it will be tried again", metadata: ["job": "\(job.id)", "error": "\(error)"])
            return
        }
        switch settlement {
        case .fired: outcomes["fired"]?.increment()
        case .notFired: outcomes["not_fired"]?.increment()
        case .retry(let error, _):
            outcomes["retried"]?.increment()
            logger.debug("classification retried", metadata: ["job": "\(job.id)", "rule": "\(job.signal.rule)", "error": "\(error)"])
        case .failed(let error):
            outcomes["failed"]?.increment()
            logger.warning("classification failed", metadata: ["job": "\(job.id)", "rule": "\(job.signal.rule)", "error": "\(error)"])
        }
    }

    private func decide(_ job: ClassificationJob) async -> ClassificationSettlement {
        guard let condition = try? JSONDecoder().decode(PendingCondition.self, from: Data(job.condition.utf8)) else {
            return .failed(error: "the job's condition cannot be read")
        }
        let registry = classifiers()
        var answers: [ClassifierQuestion: [String: Double]] = [:]
        var record: [[String: Any]] = []
        var rationale: String?
        for question in condition.questions.sorted(by: { ($0.classifier, $0.text) < ($1.classifier, $1.text) }) {
            let failure: String
            switch registry.entries[question.classifier] {
            case .ready(let classifier, let categories):
                do {
                    let result = try await classifier.classify(ClassifierInput(text: question.text))
                    let scores = ClassifierRegistry.taxonomyScores(result.scores, categories: categories)
                    answers[question] = scores
                    rationale = rationale ?? result.rationale
                    var entry: [String: Any] = ["classifier": question.classifier, "model": result.model, "scores": scores,
                                                "latency_ms": (result.latencyMillis * 10).rounded() / 10]
                    if let text = result.rationale { entry["rationale"] = text }
                    if let version = result.policyVersion { entry["policy_version"] = version }
                    record.append(entry)
                    continue
                } catch {
                    failure = "\(question.classifier): \(error)"
                }
            case .unavailable(let reason):
                failure = "\(question.classifier) is unavailable: \(reason)"
            case nil:
                failure = "\(question.classifier) is no longer declared in classifiers.yaml"
            }
            let attempts = job.attempts + 1
            guard attempts < settings.maxAttempts else { return .failed(error: failure + " (after \(attempts) attempts)") }
            let delay = OutboxDeliverer.backoff(attempt: attempts, base: settings.baseDelay, cap: settings.maxDelay, jitter: Double.random(in: 0..<1))
            return .retry(error: failure, at: clock.nowMillis() + delay)
        }
        let answersJSON = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        guard condition.fires(answers) else { return .notFired(answers: answersJSON) }
        var explanation = job.signal.explanation + "; " + condition.describe(answers)
        if let rationale, !rationale.isEmpty { explanation += " (\(rationale))" }
        // An acting rule's late hit counts toward its budget like any other; over it, the safety
        // valve demotes the rule and this hit has no effect.
        let demoted = job.mode == "active" ? budget?(job.signal.rule, job.signal.ruleVersion, job.signal.occurredAt) : nil
        return .fired(explanation: explanation, answers: answersJSON, demoted: demoted)
    }
}
