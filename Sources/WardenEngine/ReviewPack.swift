import Foundation
import WardenCore
public import WardenReview
import WardenRules
import Yams

/// The review half of a policy pack: `queues.yaml` (queues, SLA policies, routing) and
/// `enforcement.yaml` (the action catalogue, ladders, webhook, DSA settings). Both are optional;
/// a pack without them gets one `general` queue, an `appeals` queue and a catalogue of `warn` and
/// `no_action`. Every problem is reported with its file and field path.
public struct ReviewPack: Sendable {
    /// Queues, routing and case intake.
    public var configuration: ReviewConfiguration
    /// Actions and ladders.
    public var catalogue: EnforcementCatalogue
    /// Where actions are delivered.
    public var webhook: WebhookSettings
    /// Decision trees by name (`trees/*.yaml`).
    public var trees: [String: DecisionTree] = [:]
    /// Message templates by name (`macros/*.md`).
    public var macros: [String: Macro] = [:]

    /// A pack without review files.
    public static let minimal = ReviewPack(configuration: .minimal, catalogue: .minimal, webhook: WebhookSettings(url: nil, secret: nil))
}

/// Where enforcement webhooks go and how they are signed (`enforcement.yaml`, `webhook:`).
public struct WebhookSettings: Sendable, Equatable {
    /// The product's endpoint (nil: deliveries wait in the outbox until one is configured).
    public var url: String?
    /// The HMAC-SHA256 key (nil: deliveries wait, since unsigned actions would be unsafe).
    public var secret: String?
    /// Attempts before a delivery is dead-lettered.
    public var maxAttempts = 12
    /// First retry delay (ms); doubles per attempt, with jitter, up to `maxDelay`.
    public var baseDelay: Int64 = 1000
    /// Longest retry delay (ms).
    public var maxDelay: Int64 = 600_000
    /// Per-attempt timeout (ms).
    public var timeout: Int64 = 10_000
    /// The most attempts per second: after an outage the backlog drains at this pace rather than
    /// all at once, sparing the recovering endpoint and the reviewers' latency.
    public var maxPerSecond = 1000
    /// Whether deliveries wait until a secret is set (the product's webhook and webhook channels;
    /// chat and PagerDuty channels authenticate by their URL or key instead).
    public var requiresSecret = true

    /// Whether deliveries can go out: a URL, and a secret where one is required.
    public var isConfigured: Bool { url != nil && (secret != nil || !requiresSecret) }

    /// Creates settings.
    public init(url: String?, secret: String?) {
        self.url = url
        self.secret = secret
    }
}

extension ReviewPack {
    private struct QueuesFile: Decodable {
        var defaultQueue: String
        var appealsQueue: String
        var casesFromSignals: SignalIntake?
        var reporters: Reporters?
        var businessHours: [String: Hours]?
        var queues: [Queue]
        var routing: [Route]?
        var wellness: Exposure?

        enum CodingKeys: String, CodingKey {
            case defaultQueue = "default_queue", appealsQueue = "appeals_queue", casesFromSignals = "cases_from_signals"
            case reporters, businessHours = "business_hours", queues, routing, wellness
        }
        struct Exposure: Decodable {
            var sensitiveCategories: [String]?
            var dailyExposureCap: Int?
            var breakEvery: Int?
            enum CodingKeys: String, CodingKey {
                case sensitiveCategories = "sensitive_categories", dailyExposureCap = "daily_exposure_cap", breakEvery = "break_every"
            }
        }
        struct SignalIntake: Decodable {
            var minimumSeverity: String?
            enum CodingKeys: String, CodingKey { case minimumSeverity = "minimum_severity" }
        }
        struct Reporters: Decodable {
            var defaultTrust: Double?
            enum CodingKeys: String, CodingKey { case defaultTrust = "default_trust" }
        }
        struct Hours: Decodable {
            var days: [String]
            var start: String
            var end: String
            var utcOffset: String?
            enum CodingKeys: String, CodingKey { case days, start, end, utcOffset = "utc_offset" }
        }
        struct Queue: Decodable {
            var name: String
            var description: String?
            var teams: [String]?
            var roles: [String]?
            var allowedActions: [String]?
            var require: [String]?
            var wellness: Wellness?
            var sla: SLA?
            enum CodingKeys: String, CodingKey {
                case name, description, teams, roles, allowedActions = "allowed_actions", require, wellness, sla
            }
        }
        struct Wellness: Decodable {
            var blur: Bool?
            var grayscale: Bool?
            var muteMedia: Bool?
            var maxCasesPerHour: Int?
            enum CodingKeys: String, CodingKey { case blur, grayscale, muteMedia = "mute_media", maxCasesPerHour = "max_cases_per_hour" }
        }
        struct SLA: Decodable {
            var pausedStates: [String]?
            var businessHours: String?
            var warnAt: Double?
            var targets: [String: Targets]
            enum CodingKeys: String, CodingKey {
                case pausedStates = "paused_states", businessHours = "business_hours", warnAt = "warn_at", targets
            }
        }
        struct Targets: Decodable {
            var firstAction: String?
            var resolution: String?
            enum CodingKeys: String, CodingKey { case firstAction = "first_action", resolution }
        }
        struct Route: Decodable {
            var when: Conditions?
            var queue: String
        }
        struct Conditions: Decodable {
            var source: [String]?
            var category: [String]?
            var severity: [String]?
            var rule: [String]?
        }
    }

    private struct EnforcementFile: Decodable {
        var webhook: Webhook?
        var territorialScope: [String]?
        var contentTypes: [String: String]?
        var actions: [String: Action]
        var ladders: [Ladder]?

        enum CodingKeys: String, CodingKey {
            case webhook, territorialScope = "territorial_scope", contentTypes = "content_types", actions, ladders
        }
        struct Webhook: Decodable {
            var url: String?
            var secretEnv: String?
            var maxAttempts: Int?
            var maxPerSecond: Int?
            enum CodingKeys: String, CodingKey { case url, secretEnv = "secret_env", maxAttempts = "max_attempts", maxPerSecond = "max_per_second" }
        }
        struct Action: Decodable {
            var description: String?
            var restriction: [String: String]?
            var duration: String?
            var reversal: String?
        }
        struct Ladder: Decodable {
            var policy: String
            var strikeExpiry: String
            var steps: [String]
            enum CodingKeys: String, CodingKey { case policy, strikeExpiry = "strike_expiry", steps }
        }
    }

    /// Reads and checks the review files of the pack in `directory` against its taxonomy and rules.
    static func load(directory: String, taxonomy: Taxonomy?, rules: RuleSet?, problems: inout [PolicyPackError.Problem]) -> ReviewPack {
        var pack = ReviewPack.minimal
        if let catalogue = loadEnforcement(directory: directory, taxonomy: taxonomy, problems: &problems) {
            pack.catalogue = catalogue.0
            pack.webhook = catalogue.1
        }
        if let configuration = loadQueues(directory: directory, taxonomy: taxonomy, catalogue: pack.catalogue, problems: &problems) {
            pack.configuration = configuration
        }
        pack.macros = loadMacros(directory: directory, problems: &problems)
        pack.trees = loadTrees(directory: directory, taxonomy: taxonomy, catalogue: pack.catalogue, macros: pack.macros, problems: &problems)
        for rule in rules?.rules ?? [] {
            for queue in rule.routedQueues where pack.configuration.queues[queue] == nil {
                problems.append(.init(file: rule.location.file, line: rule.location.line, column: rule.location.column,
                                      message: "rule \(rule.name) routes to queue \"\(queue)\", which queues.yaml does not define; "
                                        + "add it there or route to one of: \(pack.configuration.queueOrder.joined(separator: ", "))"))
            }
        }
        return pack
    }

    static func read<T: Decodable>(_ file: String, directory: String, problems: inout [PolicyPackError.Problem]) -> T? {
        let path = (directory as NSString).appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try YAMLDecoder().decode(T.self, from: String(decoding: data, as: UTF8.self))
        } catch let error as DecodingError {
            problems.append(.init(decoding: error, file: file))
        } catch {
            problems.append(.init(file: file, message: "is not valid YAML: \(error)"))
        }
        return nil
    }

    private static let weekdays = ["mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7]

    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...24).contains(hours), (0..<60).contains(minutes),
              hours * 60 + minutes <= 24 * 60 else { return nil }
        return hours * 60 + minutes
    }

    private static func offset(_ text: String) -> Int? {
        guard let sign = text.first, sign == "+" || sign == "-", let value = minutes(String(text.dropFirst())) else { return nil }
        return sign == "-" ? -value : value
    }

    private static func loadQueues(directory: String, taxonomy: Taxonomy?, catalogue: EnforcementCatalogue,
                                   problems: inout [PolicyPackError.Problem]) -> ReviewConfiguration? {
        let file = "queues.yaml"
        guard let decoded: QueuesFile = read(file, directory: directory, problems: &problems) else { return nil }
        let before = problems.count
        func problem(_ path: String, _ message: String) { problems.append(.init(file: file, path: path, message: message)) }
        let severities = taxonomy?.severities ?? []
        let categories = taxonomy?.categoryIDs ?? []

        var hours: [String: BusinessHours] = [:]
        for (name, value) in decoded.businessHours ?? [:] {
            let path = "business_hours.\(name)"
            var days = Set<Int>()
            for day in value.days {
                if let number = weekdays[day.lowercased()] { days.insert(number) } else { problem("\(path).days", "\"\(day)\" is not a weekday; use mon, tue, wed, thu, fri, sat or sun") }
            }
            guard let start = minutes(value.start), let end = minutes(value.end), end > start else {
                problem(path, "start and end must be times of day such as \"09:00\" and \"17:00\", start before end")
                continue
            }
            let utcOffset = value.utcOffset.map(offset) ?? 0
            if utcOffset == nil { problem("\(path).utc_offset", "\"\(value.utcOffset ?? "")\" is not an offset such as \"+01:00\" or \"-05:00\"") }
            hours[name] = BusinessHours(days: days, startMinute: start, endMinute: end, utcOffsetMinutes: utcOffset ?? 0)
        }

        var queues: [QueueDefinition] = []
        var seen = Set<String>()
        for (index, queue) in decoded.queues.enumerated() {
            let path = "queues[\(index)]"
            if queue.name.isEmpty || !seen.insert(queue.name).inserted {
                problem("\(path).name", queue.name.isEmpty ? "a queue needs a name" : "queue \"\(queue.name)\" is defined twice")
            }
            for action in queue.allowedActions ?? [] where catalogue.actions[action] == nil {
                problem("\(path).allowed_actions", "\"\(action)\" is not an action of enforcement.yaml (\(catalogue.actions.keys.sorted().joined(separator: ", ")))")
            }
            for requirement in queue.require ?? [] where requirement != "policy" && requirement != "rationale" {
                problem("\(path).require", "\"\(requirement)\" cannot be required; a queue can require policy and rationale")
            }
            var sla = SLAPolicy.none
            if let definition = queue.sla {
                var targets: [CasePriority.Band: SLATargets] = [:]
                for (bandName, target) in definition.targets {
                    guard let band = CasePriority.Band(name: bandName) else {
                        problem("\(path).sla.targets.\(bandName)", "\"\(bandName)\" is not a priority band; use p1, p2, p3 or p4")
                        continue
                    }
                    var parsed = SLATargets(firstAction: nil, resolution: nil)
                    for (name, text) in [("first_action", target.firstAction), ("resolution", target.resolution)] {
                        guard let text else { continue }
                        guard let millis = DurationText.millis(text), millis > 0 else {
                            problem("\(path).sla.targets.\(bandName).\(name)", "\"\(text)\" is not a duration; use a number and s, m, h or d, such as 4h")
                            continue
                        }
                        if name == "first_action" { parsed.firstAction = millis } else { parsed.resolution = millis }
                    }
                    targets[band] = parsed
                }
                var paused = Set<CaseState>()
                for state in definition.pausedStates ?? ["on_hold"] {
                    if let value = CaseState(rawValue: state), value.isOpen { paused.insert(value) } else {
                        problem("\(path).sla.paused_states", "\"\(state)\" is not an open case state; use open, in_review, on_hold or escalated")
                    }
                }
                var business: BusinessHours?
                if let name = definition.businessHours {
                    business = hours[name]
                    if business == nil { problem("\(path).sla.business_hours", "\"\(name)\" is not defined under business_hours") }
                }
                let warn = definition.warnAt ?? 0.75
                if !(warn > 0 && warn < 1) { problem("\(path).sla.warn_at", "must be a fraction between 0 and 1, such as 0.75") }
                sla = SLAPolicy(targets: targets, pausedStates: paused, businessHours: business, warnFraction: warn)
            }
            if let limit = queue.wellness?.maxCasesPerHour, limit <= 0 {
                problem("\(path).wellness.max_cases_per_hour", "must be a positive number")
            }
            queues.append(QueueDefinition(
                name: queue.name, description: queue.description, teams: queue.teams ?? [], roles: queue.roles ?? [],
                allowedActions: queue.allowedActions, requiresPolicy: queue.require?.contains("policy") ?? false,
                requiresRationale: queue.require?.contains("rationale") ?? false, blur: queue.wellness?.blur ?? false,
                grayscale: queue.wellness?.grayscale ?? false, muteMedia: queue.wellness?.muteMedia ?? false,
                maxCasesPerHour: queue.wellness?.maxCasesPerHour, sla: sla))
        }
        for (name, path) in [(decoded.defaultQueue, "default_queue"), (decoded.appealsQueue, "appeals_queue")] where !seen.contains(name) {
            problem(path, "\"\(name)\" is not one of the queues defined below")
        }
        var routing: [RoutingRule] = []
        for (index, route) in (decoded.routing ?? []).enumerated() {
            let path = "routing[\(index)]"
            if !seen.contains(route.queue) { problem("\(path).queue", "\"\(route.queue)\" is not one of the queues") }
            var sources: [CaseSource] = []
            for source in route.when?.source ?? [] {
                if let value = CaseSource(rawValue: source), value != .appeal { sources.append(value) } else {
                    problem("\(path).when.source", "\"\(source)\" is not a case source; use signal or report (appeals go to appeals_queue)")
                }
            }
            for category in route.when?.category ?? [] where taxonomy != nil && !categories.contains(category) {
                problem("\(path).when.category", "\"\(category)\" is not a category of taxonomy.yaml")
            }
            for severity in route.when?.severity ?? [] where taxonomy != nil && !severities.contains(severity) {
                problem("\(path).when.severity", "\"\(severity)\" is not a severity; use one of \(severities.joined(separator: ", "))")
            }
            routing.append(RoutingRule(sources: sources, categories: route.when?.category ?? [], severities: route.when?.severity ?? [],
                                       rules: route.when?.rule ?? [], queue: route.queue))
        }
        let minimum = decoded.casesFromSignals?.minimumSeverity
        if let minimum, taxonomy != nil, !severities.contains(minimum) {
            problem("cases_from_signals.minimum_severity", "\"\(minimum)\" is not a severity; use one of \(severities.joined(separator: ", "))")
        }
        let trust = decoded.reporters?.defaultTrust ?? 0.5
        if !(0...1).contains(trust) { problem("reporters.default_trust", "must be between 0 and 1") }
        let wellness = decoded.wellness
        for category in wellness?.sensitiveCategories ?? [] where taxonomy != nil && !categories.contains(category) {
            problem("wellness.sensitive_categories", "\"\(category)\" is not a category of taxonomy.yaml")
        }
        for (value, name) in [(wellness?.dailyExposureCap, "daily_exposure_cap"), (wellness?.breakEvery, "break_every")] {
            if let value, value <= 0 { problem("wellness.\(name)", "must be a positive number of cases") }
        }
        if wellness != nil, wellness?.sensitiveCategories?.isEmpty ?? true, wellness?.dailyExposureCap != nil || wellness?.breakEvery != nil {
            problem("wellness.sensitive_categories", "name the categories whose cases count towards the cap and the breaks")
        }
        guard problems.count == before else { return nil }
        let exposure = ExposurePolicy(sensitiveCategories: wellness?.sensitiveCategories ?? [], dailyCap: wellness?.dailyExposureCap,
                                      breakEvery: wellness?.breakEvery)
        return ReviewConfiguration(queues: queues, routing: routing, defaultQueue: decoded.defaultQueue, appealsQueue: decoded.appealsQueue,
                                   signalMinimumSeverity: minimum, defaultReporterTrust: trust, exposure: exposure)
    }

    private static func loadEnforcement(directory: String, taxonomy: Taxonomy?,
                                        problems: inout [PolicyPackError.Problem]) -> (EnforcementCatalogue, WebhookSettings)? {
        let file = "enforcement.yaml"
        guard let decoded: EnforcementFile = read(file, directory: directory, problems: &problems) else { return nil }
        let before = problems.count
        func problem(_ path: String, _ message: String) { problems.append(.init(file: file, path: path, message: message)) }
        var actions: [ActionDefinition] = []
        for (name, action) in decoded.actions.sorted(by: { $0.key < $1.key }) {
            let path = "actions.\(name)"
            var restriction: Restriction?
            if let fields = action.restriction {
                if fields.count != 1 {
                    problem("\(path).restriction", "name exactly one of visibility, account, monetary, provision")
                } else if let (kind, value) = fields.first {
                    switch kind {
                    case "visibility": restriction = .visibility(value)
                    case "account": restriction = .account(value)
                    case "monetary": restriction = .monetary(value)
                    case "provision": restriction = .provision(value)
                    default: problem("\(path).restriction", "\"\(kind)\" is not a DSA restriction; use visibility, account, monetary or provision")
                    }
                    if let restriction {
                        let (field, allowed) = TransparencyDatabase.values(for: restriction)
                        if !allowed.contains(value) {
                            problem("\(path).restriction.\(kind)",
                                    "\"\(value)\" is not a Transparency Database \(field) value; use one of \(allowed.sorted().joined(separator: ", "))")
                        }
                    }
                }
            }
            if let duration = action.duration, duration != "required" {
                problem("\(path).duration", "write duration: required for actions that need one (the decision or ladder gives it)")
            }
            actions.append(ActionDefinition(name: name, description: action.description, restriction: restriction,
                                            needsDuration: action.duration == "required", reversal: action.reversal))
        }
        let names = Set(actions.map(\.name))
        for action in actions {
            if let reversal = action.reversal, !names.contains(reversal) {
                problem("actions.\(action.name).reversal", "\"\(reversal)\" is not an action; define it so a reversal can be delivered")
            }
        }
        let catalogue = EnforcementCatalogue(actions: actions, ladders: [], territorialScope: [], contentTypes: [:])
        var ladders: [EnforcementLadder] = []
        for (index, ladder) in (decoded.ladders ?? []).enumerated() {
            let path = "ladders[\(index)]"
            if let taxonomy, !taxonomy.categoryIDs.contains(ladder.policy) {
                problem("\(path).policy", "\"\(ladder.policy)\" is not a category of taxonomy.yaml")
            }
            guard let expiry = DurationText.millis(ladder.strikeExpiry), expiry > 0 else {
                problem("\(path).strike_expiry", "\"\(ladder.strikeExpiry)\" is not a duration such as 90d")
                continue
            }
            var steps: [LadderStep] = []
            for (stepIndex, text) in ladder.steps.enumerated() {
                // The same spelling as a decision tree's outcome actions (`suspend 24h`).
                let parsed = parseAction(text, catalogue: catalogue)
                if let action = parsed.action { steps.append(LadderStep(action: action.name, duration: action.duration)) }
                if let error = parsed.error { problem("\(path).steps[\(stepIndex)]", error) }
            }
            if steps.isEmpty { problem("\(path).steps", "a ladder needs at least one step") } else {
                ladders.append(EnforcementLadder(category: ladder.policy, steps: steps, strikeExpiry: expiry))
            }
        }
        var webhook = WebhookSettings(url: nil, secret: nil)
        if let settings = decoded.webhook {
            webhook.url = settings.url.map { ClassifierRegistry.expand($0, ProcessInfo.processInfo.environment) }.flatMap { $0.isEmpty ? nil : $0 }
            if let variable = settings.secretEnv {
                webhook.secret = ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
            }
            if let attempts = settings.maxAttempts {
                if attempts > 0 { webhook.maxAttempts = attempts } else { problem("webhook.max_attempts", "must be at least 1") }
            }
            if let rate = settings.maxPerSecond {
                if rate > 0 { webhook.maxPerSecond = rate } else { problem("webhook.max_per_second", "must be at least 1") }
            }
        }
        for (index, country) in (decoded.territorialScope ?? []).enumerated() where !TransparencyDatabase.countries.contains(country) {
            problem("territorial_scope[\(index)]", "\"\(country)\" is not a country the Transparency Database accepts (the EU member states, IS, LI, NO)")
        }
        for (type, value) in (decoded.contentTypes ?? [:]).sorted(by: { $0.key < $1.key }) where !TransparencyDatabase.contentTypes.contains(value) {
            problem("content_types.\(type)", "\"\(value)\" is not a Transparency Database content type; use one of \(TransparencyDatabase.contentTypes.sorted().joined(separator: ", "))")
        }
        guard problems.count == before else { return nil }
        return (EnforcementCatalogue(actions: actions, ladders: ladders, territorialScope: decoded.territorialScope ?? EnforcementCatalogue.eea,
                                     contentTypes: decoded.contentTypes ?? [:]), webhook)
    }
}
