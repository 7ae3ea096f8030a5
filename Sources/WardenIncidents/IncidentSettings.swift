import WardenCore

/// An incident severity as the pack defines it (`incidents.yaml`): what it means and the targets
/// the response is held to.
public struct IncidentSeverity: Sendable, Equatable, Codable {
    /// `SEV0` … `SEV3` (the pack may name others; order in the file is order of seriousness).
    public var id: String
    public var name: String
    /// What makes an incident this severe.
    public var description: String
    /// Time from opening to acknowledgement (ms).
    public var acknowledgeWithin: Int64
    /// How often stakeholders get an update while the incident is active (ms).
    public var updateEvery: Int64
    /// Time from opening to mitigation (reaching `monitoring` or later, ms).
    public var mitigateWithin: Int64
    /// PagerDuty's severity for pages about it (`critical`, `error`, `warning`, `info`).
    public var pagerSeverity: String

    public init(id: String, name: String, description: String, acknowledgeWithin: Int64, updateEvery: Int64, mitigateWithin: Int64,
                pagerSeverity: String) {
        self.id = id
        self.name = name
        self.description = description
        self.acknowledgeWithin = acknowledgeWithin
        self.updateEvery = updateEvery
        self.mitigateWithin = mitigateWithin
        self.pagerSeverity = pagerSeverity
    }
}

/// A group of people who need to be at the table for some incidents (Legal, Policy …).
public struct StakeholderGroup: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    /// Who to reach in the group (people's names; informational).
    public var contacts: [String]

    public init(id: String, name: String, contacts: [String] = []) {
        self.id = id
        self.name = name
        self.contacts = contacts
    }
}

/// What the incident domain needs from the pack: severities, stakeholder groups, and the
/// escalation policy that pages for new incidents of each severity.
public struct IncidentSettings: Sendable, Equatable {
    /// Most serious first.
    public var severities: [IncidentSeverity]
    public var stakeholders: [StakeholderGroup]
    /// Escalation policy paged when an incident opens, by severity id (absent: no page).
    public var pageOnOpen: [String: String]
    /// Where stakeholder updates (and reminders that one is overdue) are posted.
    public var updateChannels: [NotificationChannel]

    public init(severities: [IncidentSeverity], stakeholders: [StakeholderGroup], pageOnOpen: [String: String] = [:],
                updateChannels: [NotificationChannel] = []) {
        self.severities = severities
        self.stakeholders = stakeholders
        self.pageOnOpen = pageOnOpen
        self.updateChannels = updateChannels
    }

    /// The severity `id`, if the pack defines it.
    public func severity(_ id: String) -> IncidentSeverity? { severities.first { $0.id == id } }

    /// Whether `a` is more serious than `b` (earlier in the list).
    public func isMoreSerious(_ a: String, than b: String) -> Bool {
        (severities.firstIndex { $0.id == a } ?? .max) < (severities.firstIndex { $0.id == b } ?? .max)
    }

    /// Built-in settings for a pack without `incidents.yaml`: the four usual severities and the five
    /// usual stakeholder groups.
    public static let standard = IncidentSettings(
        severities: [
            IncidentSeverity(id: "SEV0", name: "Critical", description: "Severe harm to people is happening or imminent, or a legal obligation is being missed right now.",
                             acknowledgeWithin: 5 * 60_000, updateEvery: 30 * 60_000, mitigateWithin: 4 * 3_600_000, pagerSeverity: "critical"),
            IncidentSeverity(id: "SEV1", name: "Major", description: "A large abuse campaign or a detection failure affecting many users.",
                             acknowledgeWithin: 15 * 60_000, updateEvery: 60 * 60_000, mitigateWithin: 8 * 3_600_000, pagerSeverity: "error"),
            IncidentSeverity(id: "SEV2", name: "Moderate", description: "A contained campaign or a degraded safety process.",
                             acknowledgeWithin: 60 * 60_000, updateEvery: 4 * 3_600_000, mitigateWithin: 24 * 3_600_000, pagerSeverity: "warning"),
            IncidentSeverity(id: "SEV3", name: "Minor", description: "Worth tracking as an incident; no urgency.",
                             acknowledgeWithin: 4 * 3_600_000, updateEvery: 24 * 3_600_000, mitigateWithin: 72 * 3_600_000, pagerSeverity: "info"),
        ],
        stakeholders: [
            StakeholderGroup(id: "legal", name: "Legal"), StakeholderGroup(id: "policy", name: "Policy"),
            StakeholderGroup(id: "product", name: "Product"), StakeholderGroup(id: "engineering", name: "Engineering"),
            StakeholderGroup(id: "support", name: "Support"),
        ])
}
