import ArgumentParser
import Foundation
import WardenCore
import WardenEngine
import WardenHTTP
import WardenQuality
import WardenReview
import WardenStore

/// `warden bench quality`: the health report over a store holding many decisions. Fills a store with
/// decided cases through the store's own claim, escalate, appeal and decide paths (spread over the
/// last 27 days, so the report's weekly trend has weeks to compare), then times the report the API and
/// the console serve: loading the decisions and building every scorecard, the escalations and the weeks.
struct QualityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quality",
        abstract: "Time the health report over a store of many decisions.",
        discussion: """
            Seeds --decisions decided spam cases when the store in --data-dir has fewer (a temporary store when not \
            given): 50 reviewers in 3 teams, 2 % of cases escalated to a second tier, 1 % appealed (a fifth of \
            appeals overturned), 3 % resolved after their due time. Every case goes through the store's claim and \
            decide (with its plans, timeline, audit and outbox) as in serve, with the time of each step set in the \
            past. Then the report over the last --days days is built --runs times; the load (the store's query) and \
            the building (pure) are timed apart. Use a release build.
            """
    )

    @OptionGroup var pack: PackOption
    @Option(help: "Decisions in the store.") var decisions = 1_000_000
    @Option(help: "The report's window in days.") var days = 28
    @Option(help: "Reports to time.") var runs = 5
    @Option(help: "A data directory to fill or reuse (kept afterwards).") var dataDir: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let policyPack = try pack.load()
        let directory = BenchDirectory(given: dataDir, name: "quality")
        defer { directory.discard() }
        let (store, configuration) = try benchConfiguration(pack: policyPack, directory: directory, passwordCost: 4)
        let components = await WardenComponents.build(configuration)
        let review = components.review
        let now = SystemWallClock().nowMillis()
        var report: [String: Any] = ["decisions_wanted": decisions, "days": days]

        let existing = try await store.decisionFacts(from: 0, to: .max).count
        if existing < decisions {
            let started = ContinuousClock.now
            try await seed(decisions - existing, store: store, review: review, users: components.users, now: now)
            let seconds = started.duration(to: .now).seconds
            report["fill_seconds"] = seconds
            report["fill_decisions_per_sec"] = Double(decisions - existing) / seconds
            try await store.checkpoint(truncate: true)
        } else if !json {
            FileHandle.standardError.write(Data("reusing \(existing) decisions\n".utf8))
        }

        let quality = QualityService(store: store, clock: SystemWallClock())
        var totals: [Double] = [], loads: [Double] = [], builds: [Double] = []
        var last: HealthReport?
        for _ in 0..<runs {
            let started = ContinuousClock.now
            last = try await quality.health(days: days)
            totals.append(started.duration(to: .now).seconds)
            // The same work in its two halves: the store's query, then the pure report.
            let (from, to) = QualityService.window(days: days, now: SystemWallClock().nowMillis())
            let loadStarted = ContinuousClock.now
            let parts = try await store.decisionFactParts(from: from, to: to)
            loads.append(loadStarted.duration(to: .now).seconds)
            let buildStarted = ContinuousClock.now
            _ = HealthReport(parts: parts, from: from, to: to, teams: Self.teams)
            builds.append(buildStarted.duration(to: .now).seconds)
        }
        guard let health = last else { return }
        totals.sort(); loads.sort(); builds.sort()

        // QA: draw an audit of every reviewer to ±5 % (per stratum) over the same window, give every
        // drawn item a verdict through the QA review's own path (claim, verdict), then time the reports.
        let drawStarted = ContinuousClock.now
        let audit = try await quality.store.createAudit(
            name: "bench", plan: SamplingPlan(sizing: .margin(0.05, confidence: 0.95, expected: 0.5), stratifyBy: .reviewer, allocation: .perStratum, seed: 7),
            from: QualityService.window(days: days, now: now).from, to: now + 1, teams: Self.teams, actor: .system("bench"), now: now)
        report["qa_draw_seconds"] = drawStarted.duration(to: .now).seconds
        report["qa_items"] = audit.sampleSize
        var verdictGenerator = SplitMix64(seed: 99)
        for item in try await quality.items(auditID: audit.id) {
            // Someone other than who decided re-reviews it (rev0, or rev1 for rev0's own decisions).
            let reviewer = ActorRef(.user, item.decider == "user:rev0" ? "rev1" : "rev0")
            _ = try await quality.store.commandQAItem(id: item.id, .claim, actor: reviewer, isLead: false, taxonomy: [], categories: [], now: now)
            let right = verdictGenerator.chance(0.9)
            let verdict = right ? QAVerdict(violation: item.violation, category: item.violation ? item.category : nil, errors: [], notes: nil)
                : QAVerdict(violation: !item.violation, category: item.violation ? nil : item.category, errors: [item.violation ? "false_positive" : "missed_violation"], notes: nil)
            _ = try await quality.store.commandQAItem(id: item.id, .verdict(verdict), actor: reviewer, isLead: false, taxonomy: ErrorType.standard,
                                                      categories: ["spam", "spam.links"], now: now)
        }
        var qaTimes: [Double] = []
        var qaReport: QAReport?
        for _ in 0..<runs {
            let started = ContinuousClock.now
            qaReport = try await quality.report(days: days)
            qaTimes.append(started.duration(to: .now).seconds)
        }
        qaTimes.sort()
        report["qa_report_seconds_median"] = qaTimes[qaTimes.count / 2]
        report["qa_report_checked"] = qaReport?.overall.checked ?? 0
        report["decisions_in_report"] = health.overall.decisions
        report["reviewers"] = health.byReviewer.count
        report["weeks"] = health.weeks.count
        report["report_seconds_median"] = totals[totals.count / 2]
        report["report_seconds_max"] = totals.last
        report["load_seconds_median"] = loads[loads.count / 2]
        report["build_seconds_median"] = builds[builds.count / 2]
        report["runs"] = runs
        if json {
            printJSON(report)
            return
        }
        if let fill = report["fill_seconds"] as? Double {
            print(String(format: "filled %d decisions in %.1f s (%.0f decisions/s through claim and decide)", decisions - existing, fill,
                         Double(decisions - existing) / fill))
        }
        print(String(format: "health report over %d decisions (%d days, %d reviewers, %d weeks): median %.3f s, max %.3f s over %d runs",
                     health.overall.decisions, days, health.byReviewer.count, health.weeks.count, totals[totals.count / 2], totals.last ?? 0, runs))
        print(String(format: "  of which: loading from the store %.3f s, building the report %.3f s (medians)", loads[loads.count / 2], builds[builds.count / 2]))
        print(String(format: "QA: drew %d decisions (every reviewer to ±5 %%) in %.3f s; QA report over %d verdicts: median %.3f s",
                     audit.sampleSize, report["qa_draw_seconds"] as? Double ?? 0, qaReport?.overall.checked ?? 0, qaTimes[qaTimes.count / 2]))
        print(String(format: "  overall: appeals overturned %@, SLA met %@", health.overall.overturned.value.map { String(format: "%.3f", $0) } ?? "–",
                     health.overall.slaMet.value.map { String(format: "%.3f", $0) } ?? "–"))
    }

    static let reviewers = (0..<50).map { "rev\($0)" }
    static let teams: [String: [String]] = Dictionary(uniqueKeysWithValues: reviewers.enumerated().map { index, name in
        ("user:\(name)", [index < 30 ? "inhouse" : index < 45 ? "vendor-a" : "vendor-b"])
    })

    /// Makes `count` decided cases, spread evenly over the 27 days before `now`.
    func seed(_ count: Int, store: SQLiteStore, review: ReviewService, users: UserAccounts?, now: Int64) async throws {
        if let users {
            let known = Set(try await store.users().map(\.name))
            for (index, name) in Self.reviewers.enumerated() where !known.contains(name) {
                let team = Self.teams["user:\(name)"] ?? []
                _ = try await users.add(name: name, role: index < 2 ? .lead : .reviewer, password: "bench password \(index)", teams: team, actor: "system:bench")
            }
        }
        let policy = review.policy
        let context = review.decisionContext
        let span: Int64 = 27 * 86_400_000
        let batch = 2_000
        let batches = (count + batch - 1) / batch
        var progress = ProgressBar(label: "deciding cases", total: count)
        let base = (try await store.caseBuilderCursors()).reports
        var made = 0
        var generator = SplitMix64(seed: 17)
        for index in 0..<batches {
            let size = min(batch, count - made)
            let created = now - span + span * Int64(index) / Int64(max(batches, 1))
            let inputs = (0..<size).map { offset -> CaseInput in
                let number = Int(base) + made + offset
                return CaseInput(kind: .report, ref: base + Int64(made + offset) + 1, subject: EntityRef(type: "user", id: "quality\(number)"),
                                 category: generator.next() % 10 == 0 ? "spam.links" : "spam", severity: "medium",
                                 reporter: "user:reporter\(number % 5000)", at: created)
            }
            let ids = try await store.mergeIntoCases(inputs, signalsThrough: 0, reportsThrough: base + Int64(made + size), policy: policy, now: created)
            let plans = ids.map { id -> CasePlan in
                // The second tier (or the appeal's judge) is always someone else.
                let first = Int(generator.next() % UInt64(Self.reviewers.count))
                let other = (first + 1 + Int(generator.next() % UInt64(Self.reviewers.count - 1))) % Self.reviewers.count
                return CasePlan(id: id, roll: generator.next(), reviewer: Self.reviewers[first], other: Self.reviewers[other])
            }
            // Group commit: many cases in flight at once share transactions, as reviewers' requests do in serve.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<32 {
                    group.addTask {
                        for plan in plans.enumerated().filter({ $0.offset % 32 == lane }).map(\.element) {
                            try await Self.work(plan, created: created, store: store, policy: policy, context: context)
                        }
                    }
                }
                try await group.waitForAll()
            }
            made += size
            progress.update(made)
        }
        progress.finish()
    }

    struct CasePlan: Sendable {
        var id: Int64
        var roll: UInt64
        var reviewer: String
        var other: String
    }

    /// One case's life: claimed and decided (late for 3 %), escalated to a second tier first (2 %), or
    /// appealed after the decision (1 %, a fifth overturned).
    static func work(_ plan: CasePlan, created: Int64, store: SQLiteStore, policy: ReviewPolicy, context: DecisionContext) async throws {
        let percent = plan.roll % 100
        let late = (plan.roll / 100) % 100 < 3
        var at = created + 60_000 + Int64((plan.roll / 10_000) % 3_600_000) + (late ? 30 * 3_600_000 : 0)
        let reviewer = ActorRef(.user, plan.reviewer)
        let violation = (plan.roll / 1_000_000) % 10 < 8
        let draft = DecisionDraft(category: "spam", violation: violation, actions: violation ? [] : [RequestedAction(name: "no_action", duration: nil)],
                                  rationale: "bench")
        _ = try await store.claim(caseID: plan.id, reviewer: reviewer, policy: policy, now: at)
        if percent < 2 {
            at += 60_000
            _ = try await store.change(caseID: plan.id, .escalate(queue: "urgent", reason: "bench escalation"), actor: reviewer, policy: policy, now: at)
            at += 600_000
            let second = ActorRef(.user, plan.other)
            _ = try await store.claim(caseID: plan.id, reviewer: second, policy: policy, now: at)
            _ = try await store.decide(caseID: plan.id, draft, actor: second, context: context, policy: policy, now: at + 60_000)
            return
        }
        _ = try await store.decide(caseID: plan.id, draft, actor: reviewer, context: context, policy: policy, now: at + 60_000)
        if percent < 3 {
            at += 3_600_000
            let appeal = try await store.openAppeal(caseID: plan.id, appellant: EntityRef(type: "user", id: "appellant\(plan.id)"), statement: nil,
                                                    actor: ActorRef(.token, "product"), policy: policy, now: at)
            let judge = ActorRef(.user, plan.other)
            _ = try await store.claim(caseID: appeal.id, reviewer: judge, policy: policy, now: at + 60_000)
            let overturned = (plan.roll / 100_000_000) % 5 == 0
            _ = try await store.decide(caseID: appeal.id, DecisionDraft(category: "spam", violation: !overturned, actions: [], rationale: "appeal",
                                                                       appealOutcome: overturned ? .overturned : .upheld),
                                       actor: judge, context: context, policy: policy, now: at + 120_000)
        }
    }
}
