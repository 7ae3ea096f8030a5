import WardenCore
/// Where a case came from.
public enum CaseSource: String, Sendable, Codable {
    /// A rule's signal.
    case signal
    /// A user report.
    case report
    /// An appeal of a decision.
    case appeal
}

/// A queue as the pack defines it (`queues.yaml`).
public struct QueueDefinition: Sendable, Equatable {
    /// Its name (what rules route to).
    public var name: String
    /// What it is for.
    public var description: String?
    /// Teams that may work it (empty: any team).
    public var teams: [String]
    /// Roles that may work it (empty: any reviewing role).
    public var roles: [String]
    /// Actions a decision in this queue may take (nil: the whole catalogue).
    public var allowedActions: [String]?
    /// Whether a decision must name a policy.
    public var requiresPolicy: Bool
    /// Whether a decision must give a rationale.
    public var requiresRationale: Bool
    /// Blur media by default (a reviewer reveals item by item).
    public var blur: Bool
    /// Show media in grayscale.
    public var grayscale: Bool
    /// Start media muted.
    public var muteMedia: Bool
    /// Most cases of this queue one reviewer may take per hour (exposure limit), if any.
    public var maxCasesPerHour: Int?
    /// Its SLA policy.
    public var sla: SLAPolicy

    /// Creates a queue.
    public init(name: String, description: String? = nil, teams: [String] = [], roles: [String] = [], allowedActions: [String]? = nil,
                requiresPolicy: Bool = false, requiresRationale: Bool = false, blur: Bool = false, grayscale: Bool = false,
                muteMedia: Bool = false, maxCasesPerHour: Int? = nil, sla: SLAPolicy = .none) {
        self.name = name
        self.description = description
        self.teams = teams
        self.roles = roles
        self.allowedActions = allowedActions
        self.requiresPolicy = requiresPolicy
        self.requiresRationale = requiresRationale
        self.blur = blur
        self.grayscale = grayscale
        self.muteMedia = muteMedia
        self.maxCasesPerHour = maxCasesPerHour
        self.sla = sla
    }
}

/// One routing rule: when everything it names matches, the case goes to `queue`. A category
/// matches itself and its sub-categories (`fraud` matches `fraud.scam`).
public struct RoutingRule: Sendable, Equatable {
    /// Sources it applies to (empty: any).
    public var sources: [CaseSource]
    /// Categories (with their sub-categories) it applies to (empty: any).
    public var categories: [String]
    /// Severities it applies to (empty: any).
    public var severities: [String]
    /// Rules whose signals it applies to (empty: any).
    public var rules: [String]
    /// The queue.
    public var queue: String

    /// Creates a routing rule.
    public init(sources: [CaseSource] = [], categories: [String] = [], severities: [String] = [], rules: [String] = [], queue: String) {
        self.sources = sources
        self.categories = categories
        self.severities = severities
        self.rules = rules
        self.queue = queue
    }

    /// Whether the rule applies.
    public func matches(source: CaseSource, category: String, severity: String, rule: String?) -> Bool {
        (sources.isEmpty || sources.contains(source))
            && (categories.isEmpty || categories.contains { category == $0 || category.hasPrefix($0 + ".") })
            && (severities.isEmpty || severities.contains(severity))
            && (rules.isEmpty || rule.map(rules.contains) == true)
    }
}

/// The pack's review set-up: queues, routing, and which signals open cases.
public struct ReviewConfiguration: Sendable, Equatable {
    /// Queues by name.
    public var queues: [String: QueueDefinition]
    /// Queue names in the order the pack lists them.
    public var queueOrder: [String]
    /// Routing rules, first match wins.
    public var routing: [RoutingRule]
    /// Where a case goes when no rule matches.
    public var defaultQueue: String
    /// Where appeals go.
    public var appealsQueue: String
    /// Signals open cases when their rule routes them to a queue, or when at least this severity.
    public var signalMinimumSeverity: String?
    /// A reporter's trust before any of their reports was decided (0…1).
    public var defaultReporterTrust: Double
    /// Daily exposure to sensitive content per reviewer.
    public var exposure: ExposurePolicy

    /// Creates a configuration.
    public init(queues: [QueueDefinition], routing: [RoutingRule], defaultQueue: String, appealsQueue: String,
                signalMinimumSeverity: String? = nil, defaultReporterTrust: Double = 0.5, exposure: ExposurePolicy = .none) {
        self.exposure = exposure
        self.queues = Dictionary(queues.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.queueOrder = queues.map(\.name)
        self.routing = routing
        self.defaultQueue = defaultQueue
        self.appealsQueue = appealsQueue
        self.signalMinimumSeverity = signalMinimumSeverity
        self.defaultReporterTrust = defaultReporterTrust
    }

    /// A single queue taking everything, for packs without `queues.yaml`.
    public static let minimal = ReviewConfiguration(queues: [QueueDefinition(name: "general"), QueueDefinition(name: "appeals")],
                                                    routing: [], defaultQueue: "general", appealsQueue: "appeals")

    /// The queue for a new case: the queue a rule asked for when it exists, else the first routing
    /// rule that matches, else the default.
    public func route(source: CaseSource, category: String, severity: String, rule: String?, requested: String?) -> String {
        if source == .appeal { return appealsQueue }
        if let requested, queues[requested] != nil { return requested }
        return routing.first { $0.matches(source: source, category: category, severity: severity, rule: rule) }?.queue ?? defaultQueue
    }

    /// Whether a signal opens (or joins) a case.
    public func signalOpensCase(severity: String, requestedQueue: String?, severities: [String]) -> Bool {
        if requestedQueue != nil { return true }
        guard let minimum = signalMinimumSeverity, let floor = severities.firstIndex(of: minimum),
              let rank = severities.firstIndex(of: severity) else { return false }
        return rank >= floor
    }
}
