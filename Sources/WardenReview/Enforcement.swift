import WardenCore
/// The DSA restriction an action imposes: which of the Transparency Database's decision fields
/// it fills, and with which value.
public enum Restriction: Sendable, Equatable {
    /// `decision_visibility` (e.g. `DECISION_VISIBILITY_CONTENT_REMOVED`).
    case visibility(String)
    /// `decision_account` (e.g. `DECISION_ACCOUNT_SUSPENDED`).
    case account(String)
    /// `decision_monetary` (e.g. `DECISION_MONETARY_SUSPENSION`).
    case monetary(String)
    /// `decision_provision` (e.g. `DECISION_PROVISION_PARTIAL_SUSPENSION`).
    case provision(String)
}

/// An enforcement action of the pack's catalogue (`enforcement.yaml`).
public struct ActionDefinition: Sendable, Equatable {
    /// Its name, as decisions and webhooks say it.
    public var name: String
    /// What it does.
    public var description: String?
    /// The restriction it imposes (nil: none, such as a warning or no action).
    public var restriction: Restriction?
    /// Whether a decision must give a duration.
    public var needsDuration: Bool
    /// The action that undoes it (delivered on reversal), if it can be undone.
    public var reversal: String?

    /// Creates an action.
    public init(name: String, description: String? = nil, restriction: Restriction? = nil, needsDuration: Bool = false, reversal: String? = nil) {
        self.name = name
        self.description = description
        self.restriction = restriction
        self.needsDuration = needsDuration
        self.reversal = reversal
    }
}

/// One step of an enforcement ladder.
public struct LadderStep: Sendable, Equatable {
    /// The action.
    public var action: String
    /// Its duration (ms), for time-limited actions.
    public var duration: Int64?

    /// Creates a step.
    public init(action: String, duration: Int64? = nil) {
        self.action = action
        self.duration = duration
    }
}

/// Strikes under a policy (a category and its sub-categories) drive repeated violations up a
/// ladder: with `n` live strikes before this one, step `min(n, steps.count - 1)` applies.
public struct EnforcementLadder: Sendable, Equatable {
    /// The policy (category id) it covers.
    public var category: String
    /// The steps, mildest first.
    public var steps: [LadderStep]
    /// How long a strike counts (ms).
    public var strikeExpiry: Int64

    /// Creates a ladder.
    public init(category: String, steps: [LadderStep], strikeExpiry: Int64) {
        self.category = category
        self.steps = steps
        self.strikeExpiry = strikeExpiry
    }

    /// The step for a violation when the subject already has `liveStrikes` strikes.
    public func step(afterStrikes liveStrikes: Int) -> LadderStep {
        steps[min(max(0, liveStrikes), steps.count - 1)]
    }
}

/// The pack's enforcement catalogue: actions and ladders.
public struct EnforcementCatalogue: Sendable, Equatable {
    /// Actions by name.
    public var actions: [String: ActionDefinition]
    /// Ladders.
    public var ladders: [EnforcementLadder]
    /// The territorial scope statements of reasons declare (ISO country codes).
    public var territorialScope: [String]
    /// DSA `content_type` per subject entity type (`CONTENT_TYPE_OTHER` when absent).
    public var contentTypes: [String: String]

    /// Creates a catalogue.
    public init(actions: [ActionDefinition], ladders: [EnforcementLadder], territorialScope: [String], contentTypes: [String: String]) {
        self.actions = Dictionary(actions.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.ladders = ladders
        self.territorialScope = territorialScope
        self.contentTypes = contentTypes
    }

    /// The ladder for a category: the one whose category is the longest prefix of it.
    public func ladder(for category: String) -> EnforcementLadder? {
        ladders.filter { category == $0.category || category.hasPrefix($0.category + ".") }
            .max { $0.category.count < $1.category.count }
    }

    /// The 27 EU member states plus Iceland, Liechtenstein and Norway (the EEA).
    public static let eea = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT",
                             "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"]

    /// The catalogue a pack without `enforcement.yaml` gets: no action and a warning.
    public static let minimal = EnforcementCatalogue(actions: [ActionDefinition(name: "no_action"), ActionDefinition(name: "warn")],
                                                     ladders: [], territorialScope: eea, contentTypes: [:])
}
